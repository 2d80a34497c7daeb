import { readFileSync } from 'node:fs';
import {
  listStateMachines,
  resolveDefinition,
  type AslDefinition,
  type CfnTemplate,
  type ResolveOptions,
} from '../../sandbox/runner/template-resolver';

/** Where the synthesized template is (set by global-setup.ts, inherited by jest workers). */
export const TEMPLATE_PATH_ENV = 'CERTFLOW_TEMPLATE_PATH';
/** The cloud assembly directory (validation-report.json, assets), for the infra tests. */
export const ASSEMBLY_DIR_ENV = 'CERTFLOW_ASSEMBLY_DIR';

let cached: CfnTemplate | undefined;

/** The template synthesized once per jest run by global-setup.ts (parsed once per worker). */
export function loadTemplate(): CfnTemplate {
  if (cached) return cached;
  const path = process.env[TEMPLATE_PATH_ENV];
  if (!path) throw new Error(`${TEMPLATE_PATH_ENV} is not set: run the tests through jest, whose globalSetup synthesizes the app`);
  cached = JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
  return cached;
}

/** The run's template with the assembly that holds its bundles, for createLocalCloud. */
export function loadAssembly(): { template: CfnTemplate; assemblyDir: string } {
  return { template: loadTemplate(), assemblyDir: assemblyDir() };
}

/** The cloud assembly directory of the run's synthesis. */
export function assemblyDir(): string {
  const dir = process.env[ASSEMBLY_DIR_ENV];
  if (!dir) throw new Error(`${ASSEMBLY_DIR_ENV} is not set: run the tests through jest, whose globalSetup synthesizes the app`);
  return dir;
}

/** Every state machine's definition, resolved and parsed, keyed by the state machine's logical id. */
export function stateMachineDefinitions(options: ResolveOptions = {}): Record<string, AslDefinition> {
  const template = loadTemplate();
  return Object.fromEntries(listStateMachines(template).map((logicalId) => [logicalId, resolveDefinition(template, logicalId, options)]));
}
