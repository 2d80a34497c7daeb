import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { buildApp } from '../../bin/app';
import { applyNag, NAG_PACKS } from '../../lib/nag';
import { assemblyDir } from '../support/template';

interface ValidationReport {
  pluginReports: Array<{ summary?: { pluginName?: string; status?: string }; violations?: unknown[]; [key: string]: unknown }>;
}

const scratch = mkdtempSync(join(tmpdir(), 'certflow-nag-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('cdk-nag AwsSolutions, NIST 800-53 R5, PCI DSS 3.2.1 and Serverless', () => {
  it('reports no unacknowledged finding when the app is synthesized', () => {
    // global-setup synthesized the app: an unacknowledged finding would have thrown there, and
    // whatever the plugins reported is in the assembly's validation report.
    const report = JSON.parse(readFileSync(join(assemblyDir(), 'validation-report.json'), 'utf8')) as ValidationReport;
    const violations = report.pluginReports.flatMap((plugin) => plugin.violations ?? []);
    expect(violations).toEqual([]);
  });

  it('fails synthesis on an unacknowledged finding of each of the four packs, naming the rule', () => {
    const app = new App({ outdir: join(scratch, 'probe'), builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Probe');
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: false });
    new logs.LogGroup(stack, 'PlainLogs', { retention: logs.RetentionDays.ONE_YEAR });
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'probe: only the findings below are under test' });
    applyNag(app);
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = String(error);
    }
    for (const rule of ['AwsSolutions-SQS4', 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', 'PCI.DSS.321-CloudWatchLogGroupEncrypted', 'Serverless-SQSRedrivePolicy']) expect({ rule, reported: message.includes(rule) }).toEqual({ rule, reported: true });
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
      findings = NAG_PACKS.flatMap((Pack) =>
        new Pack(app).validateScope(app).violations.flatMap((violation) => violation.violatingResources.map((resource) => `${resource.constructPath} ${violation.ruleName}`)),
      );
    } finally {
      Object.defineProperty(Validations.prototype, 'acknowledge', original);
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const acknowledgement of acknowledged) {
      const [path, id] = acknowledgement.split(' ');
      // An acknowledgement covers its construct (a CfnResource itself) and everything below it.
      expect({ acknowledgement, answered: findings.some((finding) => (finding === `${path} ${id}` || finding.startsWith(`${path}/`)) && finding.endsWith(` ${id}`)) }).toEqual({ acknowledgement, answered: true });
    }
  });
});
