import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../bin/app';
import { ASSEMBLY_DIR_ENV, TEMPLATE_PATH_ENV } from './template';

/**
 * Runs once per jest run: synthesizes the CDK app (cdk-nag included) into a temp directory so every
 * workflow and infra test reads one template instead of paying 6-15 s each. Offline: no AWS
 * credentials, no telemetry, no version check. A cdk-nag finding nobody acknowledged fails here.
 */
export default async function globalSetup(): Promise<void> {
  process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
  process.env.CDK_DISABLE_VERSION_CHECK = 'true';
  const outdir = mkdtempSync(join(tmpdir(), 'certflow-synth-'));
  // The assembly holds the bundled functions (megabytes each): remove it when jest exits, after
  // every worker is done with it. CERTFLOW_KEEP_SYNTH=1 keeps it for a look.
  if (process.env.CERTFLOW_KEEP_SYNTH !== '1') process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
  const assembly = buildApp({ outdir }).synth();
  const [stack, ...others] = assembly.stacks;
  if (!stack || others.length > 0) {
    throw new Error(`expected exactly one stack in the certflow app, found ${assembly.stacks.map((s) => s.stackName).join(', ') || 'none'}`);
  }
  process.env[TEMPLATE_PATH_ENV] = stack.templateFullPath;
  process.env[ASSEMBLY_DIR_ENV] = assembly.directory;
}
