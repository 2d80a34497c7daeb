import { EnvNames, type Env } from '../../../functions/contracts/env';
import { PauseTargetSchema, type PauseTarget } from '../../../functions/contracts/pause';
import { dynamoDbClientFromEnv } from '../../../functions/adapters/aws/dynamodb-client';
import { DynamoDbPauseSwitch } from '../../../functions/adapters/aws/dynamodb-pause-switch';
import { SANDBOX_CREDENTIALS } from '../../../sandbox/compose/sandbox-constants';
import { readSandboxState } from '../sandbox-state';
import { runnerForRunningSandbox } from '../local-session';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';

export interface PauseOptions {
  configPath: string;
  local: boolean;
  /** unseal, rotation or all. */
  target: string;
  /** The ledger table (the LedgerTableName stack output) when running against AWS. */
  ledgerTable?: string;
  reason?: string;
}

/**
 * `certflow pause|resume unseal|rotation|all` (issue 13 item 5): writes or clears the kill-switch
 * item in the ledger table. UnsealNode reads it before any share leaves KMS, Preflight before a
 * rotation changes anything; a run already past them finishes.
 */
export async function setPause(options: PauseOptions & { pause: boolean }, out: Output): Promise<number> {
  const parsed = PauseTargetSchema.safeParse(options.target);
  if (!parsed.success) throw new CliError(`"${options.target}" is not one of unseal, rotation, all`, ExitCodes.Usage);
  const target: PauseTarget = parsed.data;
  const env = environment(options);
  const table = env[EnvNames.LedgerTable];
  if (!table) throw new CliError('--ledger-table is required against AWS (the LedgerTableName output of the certflow stack)', ExitCodes.Usage);
  const client = dynamoDbClientFromEnv(env);
  try {
    const killSwitch = new DynamoDbPauseSwitch(client, table);
    if (options.pause) {
      const pausedBy = process.env.USER ? `certflow CLI (${process.env.USER})` : 'certflow CLI';
      await killSwitch.pause(target, { pausedBy, pausedAt: new Date().toISOString(), ...(options.reason ? { reason: options.reason } : {}) });
    } else {
      await killSwitch.resume(target);
    }
    const state = await Promise.all((['unseal', 'rotation', 'all'] as const).map(async (name) => [name, (await killSwitch.read(name)) !== undefined] as const));
    out.result({ target, paused: options.pause, state: Object.fromEntries(state) });
    out.line(options.pause ? `${target} paused: ${describe(target)}` : `${target} resumed.`);
    for (const [name, held] of state) out.line(`  ${name}: ${held ? 'paused' : 'running'}`);
    return ExitCodes.Ok;
  } finally {
    client.destroy();
  }
}

function describe(target: PauseTarget): string {
  if (target === 'unseal') return 'sealed Vault nodes stay sealed (UnsealNode sends no share) until `certflow resume unseal`.';
  if (target === 'rotation') return 'new Rotation runs stop at Preflight and change nothing until `certflow resume rotation`.';
  return 'unseal and rotation both held until `certflow resume all`.';
}

/** The sandbox's ledger table signed as its operator, or AWS with the caller's own credentials. */
function environment(options: PauseOptions): Env {
  if (options.local) {
    const env = runnerForRunningSandbox(readSandboxState({ configPath: options.configPath })).functionEnv('Preflight');
    return { ...env, AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey, AWS_SESSION_TOKEN: undefined };
  }
  return { ...process.env, ...(options.ledgerTable ? { [EnvNames.LedgerTable]: options.ledgerTable } : {}) };
}
