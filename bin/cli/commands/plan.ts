import { loadConfig } from '../../../lib/config';
import { pkiEnvironment } from '../../../lib/pki-environment';
import { EnvNames, PkiEnvSchema, type Env } from '../../../functions/contracts/env';
import { parseEnv } from '../../../functions/handlers/kit/handler-kit';
import { buildPkiAdapters } from '../../../functions/adapters/pki-wiring';
import { planPki } from '../../../functions/steps/plan-pki';
import { systemClock } from '../../../functions/ports/clock';
import { silentLog } from '../../../sandbox/compose/vault-bootstrap';
import { readSandboxState } from '../sandbox-state';
import { runnerForRunningSandbox } from '../local-session';
import { ExitCodes } from '../cli-error';
import type { Output } from '../output';

/**
 * `certflow plan`: a dry run. Reads the issuers and says what the next rotation would change;
 * changes nothing. (The Kubernetes part, which workloads would restart, joins with the fan-out.)
 */
export async function plan(options: { configPath: string; local: boolean; intermediate: boolean }, out: Output): Promise<number> {
  const config = loadConfig(options.configPath);
  const env: Env = options.local
    ? await runnerForRunningSandbox(readSandboxState({ configPath: options.configPath })).resolvedFunctionEnv('PrepareIntermediate')
    : { ...process.env, ...pkiEnvironment(config), [EnvNames.VaultCaPem]: config.vault.caCertificate ?? process.env[EnvNames.VaultCaPem] };
  const pkiEnv = parseEnv(PkiEnvSchema, env);
  const adapters = buildPkiAdapters(pkiEnv, env, systemClock, silentLog);
  out.progress('reading the issuers');
  const result = await planPki({ pki: adapters.pki, settings: adapters.settings, clock: systemClock, log: silentLog }, { forced: options.intermediate });

  out.result(result);
  out.line(`Intermediate mount ${result.intermediateMount}: ${result.issuers.length} issuer(s)`);
  out.table([
    ['issuer', 'name', 'default', 'usage', 'not after', 'days left'],
    ...result.issuers.map((issuer) => [
      issuer.issuerId,
      issuer.issuerName || '-',
      issuer.isDefault ? 'yes' : '',
      issuer.revoked ? 'REVOKED' : issuer.usage.includes('issuing-certificates') ? 'issuing' : 'retiring',
      issuer.notAfter.slice(0, 10),
      String(issuer.remainingDays),
    ]),
  ]);
  out.line();
  out.line(`Intermediate rotation: ${result.rotation.due ? 'DUE' : 'not due'} (${result.rotation.reason}): ${result.rotation.detail}`);
  out.line('No change was made.');
  return ExitCodes.Ok;
}
