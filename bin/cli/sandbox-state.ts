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
  /**
   * The CA (PEM, not secret) of the sandbox's Vault listeners, made at its start: what the commands
   * that talk to its Vault pin. The same PEM is in `vaultCaCertPath` for VAULT_CACERT.
   */
  vaultCaCertificate: z.string().optional(),
  /** The file holding `vaultCaCertificate` (`export VAULT_CACERT=...`); removed when the sandbox stops. */
  vaultCaCertPath: z.string().optional(),
  /** The roles Vault's AWS IAM auth role binds (the functions that log in): `certflow pki-setup --local`. Not secret. */
  vaultLoginRoleArns: z.record(z.string(), z.array(z.string())).optional(),
});
export type SandboxState = z.infer<typeof SandboxStateSchema>;

/**
 * The state directory: `.certflow/` of the working directory (one sandbox per checkout), or
 * CERTFLOW_STATE_DIR for a second sandbox beside it (`certflow sandbox --state-dir`).
 */
export function stateDir(): string {
  return resolve(process.env.CERTFLOW_STATE_DIR ?? '.certflow');
}
/** The state file of the state directory (read when called: `--state-dir` sets it before a command runs). */
export function statePath(): string {
  return join(stateDir(), 'sandbox.json');
}
export const DEFAULT_STATE_PATH = statePath();
/** Where `certflow sandbox` writes its Vault's CA for VAULT_CACERT: next to the state file. */
export function vaultCaCertPath(): string {
  return join(stateDir(), 'vault-ca.pem');
}

/**
 * What every state file holds, from the moment a sandbox claims its directory: its pid. A starting
 * sandbox's file has only this (and `starting`); the full state replaces it once it runs.
 */
const ClaimSchema = z.object({ pid: z.number().int().positive(), startedAt: z.string().optional(), starting: z.boolean().optional() });
type Claim = z.infer<typeof ClaimSchema>;

/** Whether a process with this pid exists (EPERM: it does, under another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readClaim(path: string): Claim | undefined {
  try {
    const claim = ClaimSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return claim.success ? claim.data : undefined;
  } catch {
    return undefined;
  }
}

/** What `claimStateDir` found and replaced: a state file whose sandbox no longer runs, or one it could not read. */
export interface TakenOver {
  readonly pid?: number;
  readonly startedAt?: string;
}

/**
 * Claims the state directory for this process before the sandbox starts (one sandbox per state
 * directory: a second would overwrite the first's state file and orphan it). The claim is an
 * exclusive create of the state file, so of two sandboxes started together one wins and the other
 * refuses (exit 5, naming the winner's pid). A file left by a sandbox that died (its pid gone) or
 * that is not a state file is taken over; the answer says so, for the caller to tell the user.
 */
export function claimStateDir(path = statePath()): { tookOver?: TakenOver } {
  mkdirSync(dirname(path), { recursive: true });
  let tookOver: TakenOver | undefined;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(path, `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), starting: true })}\n`, { mode: 0o600, flag: 'wx' });
      return tookOver ? { tookOver } : {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const claim = readClaim(path);
    if (claim && isAlive(claim.pid)) {
      throw new CliError(
        `a sandbox is already ${claim.starting ? 'starting' : 'running'} for ${dirname(path)} (pid ${claim.pid}${claim.startedAt ? `, started ${claim.startedAt}` : ''}): stop it with Ctrl-C (or kill ${claim.pid}), or start another with --state-dir <dir>`,
        ExitCodes.Refused,
      );
    }
    // Only a file whose sandbox is gone (or that is no state file at all) is removed; if another
    // sandbox claims the directory between this and the retry, the retry refuses in its favour.
    tookOver = claim ? { pid: claim.pid, ...(claim.startedAt ? { startedAt: claim.startedAt } : {}) } : {};
    rmSync(path, { force: true });
  }
  throw new CliError(`could not claim ${path}: another sandbox is taking it over; try again`, ExitCodes.Refused);
}

export function writeSandboxState(state: SandboxState, path = statePath()): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function removeSandboxState(path = statePath()): void {
  rmSync(path, { force: true });
}

/**
 * Reads the state of a running sandbox, or says how to start one. With `configPath`, the sandbox
 * must have been started with that config: a command never acts on a sandbox of another deployment.
 */
export function readSandboxState(options: { path?: string; configPath?: string } = {}): SandboxState {
  const path = options.path ?? statePath();
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
  const claim = ClaimSchema.safeParse(json);
  if (!state.success && claim.success && claim.data.starting && isAlive(claim.data.pid)) {
    throw new CliError(`the sandbox (pid ${claim.data.pid}) is still starting: wait until it prints \`certflow sandbox is running\``, ExitCodes.Environment);
  }
  if (!state.success) throw new CliError(`${path} is not a certflow sandbox state file; restart \`certflow sandbox\``, ExitCodes.Environment);
  if (!isAlive(state.data.pid)) {
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
