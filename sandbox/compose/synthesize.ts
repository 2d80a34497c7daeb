import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../bin/app';
import type { CfnTemplate } from '../runner/template-resolver';

/**
 * Synthesizes the CDK app (cdk-nag included) into a temp directory and returns the template: the
 * local runner runs exactly what `cdk deploy` would deploy. Offline; no AWS credentials needed.
 */
export function synthesizeTemplate(configPath?: string): { template: CfnTemplate; templatePath: string } {
  process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
  process.env.CDK_DISABLE_VERSION_CHECK = 'true';
  const outdir = mkdtempSync(join(tmpdir(), 'certflow-synth-'));
  const assembly = buildApp({ outdir, ...(configPath ? { configPath } : {}) }).synth();
  const stack = assembly.stacks[0];
  if (!stack) throw new Error('the certflow app synthesized no stack');
  return { template: JSON.parse(readFileSync(stack.templateFullPath, 'utf8')) as CfnTemplate, templatePath: stack.templateFullPath };
}

export function readTemplate(path: string): CfnTemplate {
  return JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
}
