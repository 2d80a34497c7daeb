import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as z from 'zod';
import { CliError, ExitCodes } from './cli-error';

/**
 * What `certflow sandbox` writes for the other commands' `--local`: endpoints and the names of
 * the provisioned template resources. No secret: the sandbox's fake AWS credentials are fixed
 * constants, and Vault's root token is never written.
 */
export const SandboxStateSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  configPath: z.string(),
  templatePath: z.string(),
  awsEnv: z.record(z.string(), z.string()),
  functionAwsEnv: z.record(z.string(), z.string()),
  vaultNodes: z.array(z.object({ id: z.string(), url: z.string(), seal: z.string() })),
  refs: z.record(z.string(), z.string()),
  attributes: z.record(z.string(), z.string()),
  /** The Step Functions API emulator (`certflow rotate|status --local`). */
  stepFunctionsEndpoint: z.string().optional(),
  /** The template's state machines by logical id, as the Step Functions emulator names them. */
  stateMachineArns: z.record(z.string(), z.string()).optional(),
  /** The certflow bus's name (`certflow compromise --local`). */
  eventBusName: z.string().optional(),
  /** The kubeconfig for the Kubernetes emulator (`export KUBECONFIG=...`). */
  kubeconfigPath: z.string().optional(),
});
export type SandboxState = z.infer<typeof SandboxStateSchema>;

/**
 * The state directory: `.certflow/` of the working directory (one sandbox per checkout), or
 * CERTFLOW_STATE_DIR for a second sandbox beside it (`certflow sandbox --state-dir`).
 */
export function stateDir(): string {
  return resolve(process.env.CERTFLOW_STATE_DIR ?? '.certflow');
}
export const DEFAULT_STATE_PATH = join(stateDir(), 'sandbox.json');

/** A sandbox already recorded in this state directory whose process still runs, if any. */
export function runningSandbox(path = DEFAULT_STATE_PATH): SandboxState | undefined {
  let state: SandboxState;
  try {
    state = SandboxStateSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return undefined;
  }
  try {
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}

export function writeSandboxState(state: SandboxState, path = DEFAULT_STATE_PATH): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function removeSandboxState(path = DEFAULT_STATE_PATH): void {
  rmSync(path, { force: true });
}

/**
 * Reads the state of a running sandbox, or says how to start one. With `configPath`, the sandbox
 * must have been started with that config: a command never acts on a sandbox of another deployment.
 */
export function readSandboxState(options: { path?: string; configPath?: string } = {}): SandboxState {
  const path = options.path ?? DEFAULT_STATE_PATH;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CliError(`no running sandbox (${path} is missing): start one with \`certflow sandbox\` in another terminal`, ExitCodes.Environment);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not valid JSON: remove it and restart \`certflow sandbox\``, ExitCodes.Environment);
  }
  const state = SandboxStateSchema.safeParse(json);
  if (!state.success) throw new CliError(`${path} is not a certflow sandbox state file; restart \`certflow sandbox\``, ExitCodes.Environment);
  try {
    process.kill(state.data.pid, 0);
  } catch {
    throw new CliError(`the sandbox recorded in ${path} (pid ${state.data.pid}) is no longer running: start it again with \`certflow sandbox\``, ExitCodes.Environment);
  }
  if (options.configPath && resolve(options.configPath) !== resolve(state.data.configPath)) {
    throw new CliError(
      `the running sandbox (pid ${state.data.pid}) was started with --config ${state.data.configPath}, not ${options.configPath}: pass that config, or restart the sandbox with this one`,
      ExitCodes.Environment,
    );
  }
  return state.data;
}
