import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The layer rules of DESIGN.md run in `npm test` (npm run lint). This proves the checks can fail:
 * a scratch tree holds one file per case, some breaking a rule and some allowed, and the same
 * config cruises it once (one depcruise process, not one per case); each case then reads the
 * violations that start at its own file.
 */
const repo = resolve(__dirname, '../..');
const depcruise = join(repo, 'node_modules', '.bin', 'depcruise');

const FILES: Record<string, string> = {
  'functions/domain/leak.ts': "import { KMSClient } from '@aws-sdk/client-kms';\nexport const k = KMSClient;\n",
  'functions/steps/leak.ts': "import NodeVault = require('node-vault');\nexport const v = NodeVault;\n",
  'functions/handlers/x.handler.ts': 'export const handler = 1;\n',
  'lib/stack.ts': "import { handler } from '../functions/handlers/x.handler';\nexport const h = handler;\n",
  'functions/domain/x509-facts.ts': 'export const pemBlocks = (text: string) => text.length;\n',
  'sandbox/services/endpoint.ts': "import { pemBlocks } from '../../functions/domain/x509-facts';\nexport const blocks = pemBlocks;\n",
  'functions/domain/pem.ts': "import 'reflect-metadata';\nimport { PemConverter } from '@peculiar/x509';\nexport const decode = (text: string) => PemConverter.decode(text);\n",
  'functions/domain/pure.ts': 'export const add = (a: number, b: number) => a + b;\n',
  'functions/domain/engine.ts': "import * as pkijs from 'pkijs';\nimport * as x509 from '@peculiar/x509';\nexport const e = [pkijs.CertificateChainValidationEngine, x509.X509Certificate];\n",
  'functions/domain/io.ts': "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

let violations: Violation[];

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'certflow-layers-'));
  try {
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
    copyFileSync(join(repo, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    for (const [path, text] of Object.entries(FILES)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const run = spawnSync(depcruise, ['--config', join(repo, '.dependency-cruiser.cjs'), '--output-type', 'json', 'functions', 'lib', 'sandbox'], { cwd: dir, encoding: 'utf8' });
    // depcruise exits non-zero when an error-severity rule is broken, which this tree does on purpose.
    const report = JSON.parse(run.stdout) as { summary: { violations: Violation[] } };
    violations = report.summary.violations;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The rules broken by imports that start at `file`. */
function rulesBrokenBy(file: string): string[] {
  return violations.filter((violation) => violation.from === file).map((violation) => violation.rule.name);
}

describe('the layer rules', () => {
  it('refuse a domain file that imports a vendor SDK', () => {
    expect(rulesBrokenBy('functions/domain/leak.ts')).toContain('domain-is-pure');
  });

  it('refuse a step that imports node-vault directly', () => {
    expect(rulesBrokenBy('functions/steps/leak.ts').some((rule) => ['steps-use-ports-not-vendors', 'only-adapters-import-vendor-sdks'].includes(rule))).toBe(true);
  });

  it('refuse lib/ importing a handler', () => {
    expect(rulesBrokenBy('lib/stack.ts')).toContain('lib-imports-only-contracts');
  });

  it('refuse an emulator that decides with certflow\'s own parsers', () => {
    expect(rulesBrokenBy('sandbox/services/endpoint.ts')).toContain('emulators-do-not-use-certflow-domain');
  });

  it('accept a domain file that reads PEM with @peculiar/x509, a pure format library', () => {
    expect(rulesBrokenBy('functions/domain/pem.ts')).toEqual([]);
  });

  it('accept a pure domain file', () => {
    expect(rulesBrokenBy('functions/domain/pure.ts')).toEqual([]);
  });

  it('accept a domain file that validates with pure format libraries (pkijs, @peculiar/x509)', () => {
    expect(rulesBrokenBy('functions/domain/engine.ts')).toEqual([]);
  });

  it('refuse a domain file that reads the file system, format library or not', () => {
    expect(rulesBrokenBy('functions/domain/io.ts')).toContain('domain-no-node-io');
  });

  it('report the violations of the tree and nothing that a case did not plant', () => {
    const planted = ['functions/domain/leak.ts', 'functions/steps/leak.ts', 'lib/stack.ts', 'sandbox/services/endpoint.ts', 'functions/domain/io.ts'];
    expect([...new Set(violations.map((violation) => violation.from))].sort()).toEqual(planted.sort());
  });
});
