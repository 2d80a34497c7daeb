import { loadConfig } from '../../../lib/config';
import { pkiEnvironment } from '../../../lib/pki-environment';
import { PkiEnvSchema, type Env } from '../../../functions/contracts/env';
import { parseEnv } from '../../../functions/handlers/kit/handler-kit';
import { buildPkiAdapters } from '../../../functions/adapters/pki-wiring';
import { buildRotationRuntime } from '../../../functions/adapters/rotation-wiring';
import { planPki } from '../../../functions/steps/plan-pki';
import { decideTargets, type TargetDecision } from '../../../functions/steps/plan-rotation';
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
 * `certflow plan`: a dry run of the Rotation's Plan step. On the sandbox it runs the Plan step's
 * own decision code (decideTargets, the half of PlanRotation that writes nothing) with the
 * PlanRotation function's environment and role: the issuers, whether the intermediate is due,
 * every target's decision with the renewal policy's reason, and every candidate the target policy
 * refused. Changes nothing. Against AWS it reads the issuers only (the clusters are reachable from
 * the functions, not from here).
 */
export async function plan(options: PlanOptions, out: Output): Promise<number> {
  const config = loadConfig(options.configPath);
  out.progress('reading the issuers and the targets');
  if (options.local) {
    const env = await runnerForRunningSandbox(readSandboxState({ configPath: options.configPath })).resolvedFunctionEnv('PlanRotation');
    const runtime = buildRotationRuntime(env, systemClock, silentLog, discardMetrics);
    const decided = await decideTargets(runtime, { forceIntermediate: options.intermediate, forceRenewal: false, ...(options.services?.length ? { services: options.services } : {}) }, silentLog);
    const targets = decided.decisions.map(targetRow);
    out.result({ ...decided.pkiPlan, targets, rejected: decided.rejected });
    printIssuers(decided.pkiPlan, out);
    printTargets(decided.decisions, decided.rejected, out);
    out.line('No change was made.');
    return ExitCodes.Ok;
  }
  // The Vault CA pinned is the config's, never one from the shell (pkiEnvironment sets it).
  const env: Env = { ...process.env, ...pkiEnvironment(config) };
  const pkiEnv = parseEnv(PkiEnvSchema, env);
  const adapters = buildPkiAdapters(pkiEnv, env, systemClock, silentLog);
  const result = await planPki({ pki: adapters.pki, settings: adapters.settings, clock: systemClock, log: silentLog }, { forced: options.intermediate });
  out.result(result);
  printIssuers(result, out);
  out.line('Per-target decisions are shown with --local only: against AWS the clusters are reachable from the functions, not from here.');
  out.line('No change was made.');
  return ExitCodes.Ok;
}

type PkiPlan = Awaited<ReturnType<typeof planPki>>;

function targetRow(decision: TargetDecision) {
  const { target } = decision;
  return { id: target.id, service: target.service, kind: target.kind, due: decision.due, reason: decision.reason, detail: decision.detail };
}

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

function printTargets(decisions: readonly TargetDecision[], rejected: readonly RefusedCandidate[], out: Output): void {
  const due = decisions.filter((decision) => decision.due).length;
  out.line();
  out.line(`Targets: ${decisions.length}, ${due} would be renewed`);
  if (decisions.length) {
    out.table([
      ['target', 'kind', 'decision', 'reason', ...(out.wide ? ['detail'] : [])],
      ...decisions.map((decision) => [
        decision.target.id,
        decision.target.kind,
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
