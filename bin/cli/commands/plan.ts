import { loadConfig } from '../../../lib/config';
import { pkiEnvironment } from '../../../lib/pki-environment';
import { PkiEnvSchema, type Env } from '../../../functions/contracts/env';
import { parseEnv } from '../../../functions/handlers/kit/handler-kit';
import { buildPkiAdapters } from '../../../functions/adapters/pki-wiring';
import { buildRotationRuntime } from '../../../functions/adapters/rotation-wiring';
import { planPki } from '../../../functions/steps/plan-pki';
import { planDryRun } from '../../../functions/steps/plan-rotation';
import { PlanDryRunResultSchema, type DryRunTarget, type PlanDryRunResult } from '../../../functions/contracts/plan-dry-run';
import { invokePlanDryRun, PLAN_FUNCTION_ENV } from '../plan-invocation';
import type { RefusedCandidate } from '../../../functions/contracts/target-policy';
import { systemClock } from '../../../functions/ports/clock';
import { discardMetrics } from '../../../functions/ports/metrics-sink';
import { silentLog } from '../../../sandbox/compose/vault-bootstrap';
import { readSandboxState } from '../sandbox-state';
import { runnerForRunningSandbox } from '../local-session';
import { ExitCodes } from '../cli-error';
import type { Output } from '../output';

export interface PlanOptions {
  configPath: string;
  local: boolean;
  intermediate: boolean;
  /** Only these services, as `rotate --service` would. */
  services?: string[];
}

/**
 * `certflow plan`: a dry run of the Rotation's Plan step, by the Plan step's own code (planDryRun:
 * decideTargets, the half of PlanRotation that writes nothing): the issuers, whether the
 * intermediate is due, every target's decision with the renewal policy's reason, and every
 * candidate the target policy refused. Changes nothing. `--local` runs it with the PlanRotation
 * function's environment and role on the sandbox; against AWS (`--stack`, which names the
 * function) the deployed PlanRotation runs it, where the clusters are reachable. With neither,
 * it reads the issuers from Vault only.
 */
export async function plan(options: PlanOptions, out: Output): Promise<number> {
  const config = loadConfig(options.configPath);
  out.progress('reading the issuers and the targets');
  const request = { forceIntermediate: options.intermediate, ...(options.services?.length ? { services: options.services } : {}) };
  if (options.local) {
    const env = await runnerForRunningSandbox(readSandboxState({ configPath: options.configPath })).resolvedFunctionEnv('PlanRotation');
    const runtime = buildRotationRuntime(env, systemClock, silentLog, discardMetrics);
    // As the function answers it (JSON): `--local` and `--stack` print the same document.
    return show(PlanDryRunResultSchema.parse(JSON.parse(JSON.stringify(await planDryRun(runtime, request, silentLog)))), out);
  }
  const functionName = process.env[PLAN_FUNCTION_ENV];
  if (functionName) {
    out.progress(`invoking ${functionName} with a dry-run input`);
    return show(await invokePlanDryRun(functionName, request), out);
  }
  // The Vault CA pinned is the config's, never one from the shell (pkiEnvironment sets it).
  const env: Env = { ...process.env, ...pkiEnvironment(config) };
  const pkiEnv = parseEnv(PkiEnvSchema, env);
  const adapters = buildPkiAdapters(pkiEnv, env, systemClock, silentLog);
  const result = await planPki({ pki: adapters.pki, settings: adapters.settings, clock: systemClock, log: silentLog }, { forced: options.intermediate });
  out.result(result);
  printIssuers(result, out);
  out.line('Per-target decisions need the deployed PlanRotation function: pass --stack <name> (the clusters are reachable from the functions, not from here).');
  out.line('No change was made.');
  return ExitCodes.Ok;
}

function show(result: PlanDryRunResult, out: Output): number {
  out.result(result);
  printIssuers(result, out);
  printTargets(result.targets, result.rejected, out);
  out.line('No change was made.');
  return ExitCodes.Ok;
}

/** What the issuer lines print: the same from Vault directly and from a dry run's answer. */
type PkiPlan = Pick<PlanDryRunResult, 'intermediateMount' | 'issuers'> & { rotation: { due: boolean; reason: string; detail: string } };

function printIssuers(result: PkiPlan, out: Output): void {
  out.line(`Intermediate mount ${result.intermediateMount}: ${result.issuers.length} issuer(s)`);
  out.table(
    [
      ['issuer', 'name', 'default', 'usage', 'not after', 'days left'],
      ...result.issuers.map((issuer) => [
        issuer.issuerId,
        issuer.issuerName || '-',
        issuer.isDefault ? 'yes' : '',
        issuer.revoked ? 'REVOKED' : issuer.usage.includes('issuing-certificates') ? 'issuing' : 'retiring',
        issuer.notAfter.slice(0, 10),
        String(issuer.remainingDays),
      ]),
    ],
    // The issuer id is what `certflow compromise --intermediate` takes: never cut.
    { whole: [0] },
  );
  out.line();
  out.line(`Intermediate rotation: ${result.rotation.due ? 'DUE' : 'not due'} (${result.rotation.reason}): ${result.rotation.detail}`);
}

function printTargets(decisions: readonly DryRunTarget[], rejected: readonly RefusedCandidate[], out: Output): void {
  const due = decisions.filter((decision) => decision.due).length;
  out.line();
  out.line(`Targets: ${decisions.length}, ${due} would be renewed`);
  if (decisions.length) {
    out.table([
      ['target', 'kind', 'decision', 'reason', ...(out.wide ? ['detail'] : [])],
      ...decisions.map((decision) => [
        decision.id,
        decision.kind,
        decision.due ? 'renew' : 'keep',
        decision.reason,
        ...(out.wide ? [decision.detail] : []),
      ]),
    ]);
  }
  out.line();
  out.line(`Refused candidates: ${rejected.length}${rejected.length ? ' (never written to)' : ''}`);
  if (rejected.length) {
    out.table([['object', 'reason', ...(out.wide ? ['detail'] : [])], ...rejected.map((candidate) => [candidate.object, candidate.reason, ...(out.wide ? [candidate.detail] : [])])], { whole: [1] });
  }
}
