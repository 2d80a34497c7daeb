import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../lib/config';
import { batchesPerWave, HISTORY_EVENT_LIMIT, worstCaseEventsPerBatch } from '../lib/constructs/history-budget';
import { rotationHistory, type RotationRunShape } from '../lib/constructs/rotation-history';
import { RotationWaveStates } from '../lib/constructs/rotation-states';
import { synthesizedAssembly } from '../sandbox/compose/synthesize';
import { listStateMachines, resolveDefinition } from '../sandbox/runner/template-resolver';
import { machine, writeResult } from './bench-kit';

/**
 * Issue 17 item 5: the history events of each execution of one Rotation run, by AWS's rules
 * (lib/constructs/history-budget.ts), computed on the synthesized definitions for 100 to 100,000
 * services; the 25,000 limit applies to each execution. Two shapes: every rollout done on the
 * first look (a healthy fleet), and every batch looking maxRolloutChecks times (the worst a
 * successful run can do). Where bench/per-service.bench.ts measured a run in the sandbox, the
 * measured events (the same rules on the local engine's log) are shown beside the computed ones.
 */
const SIZES = [100, 1_000, 10_000, 100_000];

async function main(): Promise<void> {
  const configPath = 'config/econgraph.json';
  const config = loadConfig(configPath);
  const { template } = await synthesizedAssembly({ configPath });
  const definitions = Object.fromEntries(listStateMachines(template).map((id) => [id, resolveDefinition(template, id, {}) as { States: Record<string, unknown> }]));
  const rotation = Object.values(definitions).find((definition) => 'AcquireLock' in definition.States);
  const wave = Object.values(definitions).find((definition) => RotationWaveStates.Step in definition.States);
  if (!rotation || !wave) throw new Error('the template has no Rotation or RotationWave state machine');
  const perWave = batchesPerWave(config.policy.maxRolloutChecks);
  const measured = measuredRuns();
  const rows = SIZES.flatMap((services) =>
    (['first look', 'every batch at the bound'] as const).map((rollouts) => {
      const shape: RotationRunShape = {
        services,
        batchSize: config.policy.batchSize,
        batchesPerWave: perWave,
        canaryServices: 1,
        intermediate: true,
        looks: rollouts === 'first look' ? 1 : config.policy.maxRolloutChecks,
      };
      const count = rotationHistory({ rotation: rotation as never, wave: wave as never }, shape);
      return {
        services,
        rollouts,
        rotationEvents: count.rotation,
        waveExecutions: count.waves.length,
        largestWaveEvents: Math.max(...count.waves.map((entry) => entry.events)),
        maxPerExecution: count.maxPerExecution,
        underLimit: count.maxPerExecution < HISTORY_EVENT_LIMIT,
        ...(rollouts === 'first look' && measured[services] ? { measuredInSandbox: measured[services] } : {}),
      };
    }),
  );
  const result = {
    benchmark: 'history-events',
    machine: machine(),
    rules: 'lib/constructs/history-budget.ts (AWS HistoryEventType per state type), computed on the synthesized Rotation and RotationWave definitions',
    policy: { batchSize: config.policy.batchSize, maxRolloutChecks: config.policy.maxRolloutChecks, batchesPerWave: perWave, worstCaseEventsPerBatch: worstCaseEventsPerBatch(config.policy.maxRolloutChecks) },
    limit: HISTORY_EVENT_LIMIT,
    // The other limit, 256 KiB per state: the state carries wave numbers and counts, not batch ids
    // or verdicts; its largest size at 100,000 services is computed on the definition by a test.
    stateSize: 'test/infra/rotation-workflow.test.ts ("the Rotation state of a run of 100,000 services")',
    rows,
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${writeResult('history-events', result)}`);
}

/** The AWS-rule counts per-service.bench.ts measured in the sandbox, by fleet size (if it ran since the waves). */
function measuredRuns(): Record<number, unknown> {
  const path = join(__dirname, 'results', 'per-service.json');
  if (!existsSync(path)) return {};
  const runs = (JSON.parse(readFileSync(path, 'utf8')) as { runs?: Array<{ services: number; awsHistoryEvents?: unknown }> }).runs ?? [];
  return Object.fromEntries(runs.filter((run) => run.awsHistoryEvents).map((run) => [run.services, run.awsHistoryEvents]));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
