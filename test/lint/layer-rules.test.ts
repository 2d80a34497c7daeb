import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The layer rules of DESIGN.md run in `npm test` (npm run lint). This proves the check can fail:
 * a scratch tree with a domain/ file that imports a vendor SDK must be refused by the same config.
 */
const repo = resolve(__dirname, '../..');
const depcruise = join(repo, 'node_modules', '.bin', 'depcruise');

function cruise(files: Record<string, string>): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'certflow-layers-'));
  try {
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
    mkdirSync(join(dir, 'functions'), { recursive: true });
    mkdirSync(join(dir, 'lib'), { recursive: true });
    mkdirSync(join(dir, 'sandbox'), { recursive: true });
    copyFileSync(join(repo, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    try {
      const output = execFileSync(depcruise, ['--config', join(repo, '.dependency-cruiser.cjs'), 'functions', 'lib', 'sandbox'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      return { ok: true, output };
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string };
      return { ok: false, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the layer rules', () => {
  it('refuse a domain file that imports a vendor SDK', () => {
    const result = cruise({ 'functions/domain/leak.ts': "import { KMSClient } from '@aws-sdk/client-kms';\nexport const k = KMSClient;\n" });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/domain-is-pure/);
  });

  it('refuse a step that imports node-vault directly', () => {
    const result = cruise({ 'functions/steps/leak.ts': "import NodeVault = require('node-vault');\nexport const v = NodeVault;\n" });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/steps-use-ports-not-vendors|only-adapters-import-vendor-sdks/);
  });

  it('refuse lib/ importing a handler', () => {
    const result = cruise({
      'functions/handlers/x.handler.ts': 'export const handler = 1;\n',
      'lib/stack.ts': "import { handler } from '../functions/handlers/x.handler';\nexport const h = handler;\n",
    });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/lib-imports-only-contracts/);
  });

  it('refuse an emulator that decides with certflow\'s own parsers', () => {
    const result = cruise({
      'functions/domain/x509-facts.ts': 'export const pemBlocks = (text: string) => text.length;\n',
      'sandbox/services/endpoint.ts': "import { pemBlocks } from '../../functions/domain/x509-facts';\nexport const blocks = pemBlocks;\n",
    });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/emulators-do-not-use-certflow-domain/);
  });

  it('accept a domain file that reads PEM with @peculiar/x509, a pure format library', () => {
    const result = cruise({ 'functions/domain/pem.ts': "import 'reflect-metadata';\nimport { PemConverter } from '@peculiar/x509';\nexport const decode = (text: string) => PemConverter.decode(text);\n" });
    expect(result.output).not.toMatch(/domain-is-pure|only-adapters-import-vendor-sdks/);
    expect(result.ok).toBe(true);
  });

  it('accept a pure domain file', () => {
    const result = cruise({ 'functions/domain/pure.ts': 'export const add = (a: number, b: number) => a + b;\n' });
    expect(result.ok).toBe(true);
  });

  it('accept a domain file that validates with pure format libraries (pkijs, @peculiar/x509)', () => {
    const result = cruise({
      'functions/domain/engine.ts': "import * as pkijs from 'pkijs';\nimport * as x509 from '@peculiar/x509';\nexport const e = [pkijs.CertificateChainValidationEngine, x509.X509Certificate];\n",
    });
    expect(result.output).not.toMatch(/domain-is-pure|only-adapters-import-vendor-sdks/);
    expect(result.ok).toBe(true);
  });

  it('refuse a domain file that reads the file system, format library or not', () => {
    const result = cruise({ 'functions/domain/io.ts': "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n" });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/domain-no-node-io/);
  });
});
