import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../functions/contracts/errors';
import { CertflowStack } from '../lib/certflow-stack';
import { loadConfig } from '../lib/config';
import { applyNag } from '../lib/nag';

/** The example deployment, used when neither `configPath` nor `-c config=...` is given. */
export const DEFAULT_CONFIG_PATH = path.resolve(__dirname, '..', 'config', 'econgraph.json');

export interface BuildAppOptions {
  /**
   * The deployment config file; a relative path is taken from the working directory.
   * @default the `config` context value (`cdk synth -c config=...`), else config/econgraph.json
   */
  readonly configPath?: string;
  /**
   * Where the cloud assembly is written when the app is synthesized.
   * @default the CDK's default (cdk.out, or what the CLI passes)
   */
  readonly outdir?: string;
  /**
   * Also run the CDK's built-in CloudFormation schema validation. Off by default: its findings are
   * warnings only, and starting its WebAssembly engine costs about 8 s of every synth on 2 cores
   * (cdk-nag, which is always on, takes well under a second).
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
  /**
   * Bundle the functions with esbuild. Off only for tests that inspect constructs and never run
   * code (cdk-nag's findings do not depend on the bundles): bundling is most of a synth's cost.
   * @default true
   */
  readonly bundling?: boolean;
}

/**
 * Builds the certflow app: validates the config (a ConfigError naming the field is thrown before
 * any construct exists), adds the stack, and applies cdk-nag. Call `.synth()` on the result.
 */
export function buildApp(options: BuildAppOptions = {}): App {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    // The CDK's own switch: an empty list of stacks to bundle leaves every asset unbundled.
    ...(options.bundling === false ? { context: { 'aws:cdk:bundling-stacks': [] } } : {}),
  });
  const contextPath = app.node.tryGetContext('config') as unknown;
  const configPath = options.configPath ?? (typeof contextPath === 'string' ? contextPath : DEFAULT_CONFIG_PATH);
  const config = loadConfig(path.resolve(configPath));

  new CertflowStack(app, `certflow-${config.name}`, {
    config,
    description: `certflow (${config.name}): keeps Vault cluster ${config.vault.clusterId} unsealed and its PKI rotated`,
  });
  applyNag(app);
  return app;
}

function main(): void {
  try {
    buildApp().synth();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`certflow: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

if (require.main === module) main();
