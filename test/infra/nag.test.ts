import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../bin/app';
import { applyNag } from '../../lib/nag';
import { assemblyDir } from '../support/template';

interface ValidationReport {
  pluginReports: Array<{ summary?: { pluginName?: string; status?: string }; violations?: unknown[]; [key: string]: unknown }>;
}

const scratch = mkdtempSync(join(tmpdir(), 'certflow-nag-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding when the app is synthesized', () => {
    // global-setup synthesized the app: an unacknowledged finding would have thrown there, and
    // whatever the plugins reported is in the assembly's validation report.
    const report = JSON.parse(readFileSync(join(assemblyDir(), 'validation-report.json'), 'utf8')) as ValidationReport;
    const violations = report.pluginReports.flatMap((plugin) => plugin.violations ?? []);
    expect(violations).toEqual([]);
  });

  it('fails synthesis on an unacknowledged finding, naming the rule', () => {
    const app = new App({ outdir: join(scratch, 'probe'), builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Probe');
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: false });
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'probe: only SQS4 is under test' });
    applyNag(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('has no stale acknowledgement: every one answers a finding that exists without it', () => {
    const acknowledged: string[] = [];
    const original = Object.getOwnPropertyDescriptor(Validations.prototype, 'acknowledge')!;
    Object.defineProperty(Validations.prototype, 'acknowledge', {
      configurable: true,
      value(this: { scope: { node: { path: string } } }, ...rules: Array<{ id: string }>) {
        for (const rule of rules) acknowledged.push(`${this.scope.node.path} ${rule.id}`);
      },
    });
    let findings: string[];
    try {
      const app = buildApp({ outdir: join(scratch, 'unacknowledged'), bundling: false });
      const report = new AwsSolutionsChecks(app).validateScope(app);
      findings = report.violations.flatMap((violation) => violation.violatingResources.map((resource) => `${resource.constructPath} ${violation.ruleName}`));
    } finally {
      Object.defineProperty(Validations.prototype, 'acknowledge', original);
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const acknowledgement of acknowledged) {
      const [path, id] = acknowledgement.split(' ');
      // An acknowledgement covers its construct and everything below it.
      expect({ acknowledgement, answered: findings.some((finding) => finding.startsWith(`${path}/`) && finding.endsWith(` ${id}`)) }).toEqual({ acknowledgement, answered: true });
    }
  });
});
