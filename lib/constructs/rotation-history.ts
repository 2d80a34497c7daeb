import { RotationStates } from '../../functions/contracts/rotation-payloads';
import { countExecutionEvents, type AslStates, type HistoryScenario } from './history-budget';
import { RotationWaveStates, WaveSteps, type WaveStep } from './rotation-states';

/** A Rotation run to count: the fleet's shape and how its rollouts go. */
export interface RotationRunShape {
  /** Services due for renewal (one target each). */
  services: number;
  /** config.policy.batchSize */
  batchSize: number;
  /** The Rotation's wave size (history-budget.ts batchesPerWave), as its Plan state passes it on. */
  batchesPerWave: number;
  /** Services in the canary batch (0: no canary). */
  canaryServices: number;
  /** Whether the run rotates the intermediate (prepare, publish trust, activate). */
  intermediate: boolean;
  /** How many times CheckBatch looks at each batch before it is done (1: done on the first look). */
  looks: number;
}

export interface RotationHistoryCount {
  /** Events of the Rotation execution itself. */
  rotation: number;
  /** One entry per wave execution the run starts, in order: its step, its batches, its events. */
  waves: Array<{ step: WaveStep; batches: number; events: number }>;
  /** The most events any one execution of the run holds. */
  maxPerExecution: number;
}

/**
 * The history events of a successful Rotation run, counted by AWS's rules (history-budget.ts) on
 * the synthesized definitions of the Rotation and RotationWave state machines: the choices follow
 * the run's shape, every Map gets its waves or batches, and each wave is its own execution.
 */
export function rotationHistory(definitions: { rotation: AslStates; wave: AslStates }, shape: RotationRunShape): RotationHistoryCount {
  const hasCanary = shape.canaryServices > 0;
  const batches = Math.ceil(Math.max(0, shape.services - shape.canaryServices) / shape.batchSize);
  const allBatches = batches + (hasCanary ? 1 : 0);
  const waveSizes = (count: number) => Array.from({ length: Math.ceil(count / shape.batchesPerWave) }, (_, index) => Math.min(shape.batchesPerWave, count - index * shape.batchesPerWave));
  const fanOutWaves = waveSizes(batches);
  const allWaves = waveSizes(allBatches);
  /** A wait loop's Choice: rule 0 (done) on the last look, the Default (wait again) before. */
  const loop = (visit: number) => (visit >= shape.looks ? 0 : -1);
  const rotationScenario: HistoryScenario = {
    mapItems: (map) => (map === RotationStates.FanOut ? fanOutWaves.length : map === RotationStates.VerifyAll ? allWaves.length : 0),
    choose: (choice, visit) => {
      switch (choice) {
        case RotationStates.IntermediateDue:
          return shape.intermediate ? 0 : -1;
        case RotationStates.HasCanary:
          return hasCanary ? 0 : -1;
        case RotationStates.CanaryDone:
          return loop(visit);
        default:
          throw new Error(`the success path has no choice ${choice}`);
      }
    },
  };
  const waveEvents = (step: WaveStep, count: number) =>
    countExecutionEvents(definitions.wave, {
      mapItems: () => count,
      choose: (choice, visit) => {
        if (choice === RotationWaveStates.Step) return [WaveSteps.renew, WaveSteps.verify, WaveSteps.restore].indexOf(step);
        if (choice === RotationStates.BatchDone) return loop(visit);
        throw new Error(`the success path has no choice ${choice}`);
      },
    });
  const waves = [
    ...fanOutWaves.map((count) => ({ step: WaveSteps.renew, batches: count, events: waveEvents(WaveSteps.renew, count) })),
    ...allWaves.map((count) => ({ step: WaveSteps.verify, batches: count, events: waveEvents(WaveSteps.verify, count) })),
  ];
  const rotation = countExecutionEvents(definitions.rotation, rotationScenario);
  return { rotation, waves, maxPerExecution: Math.max(rotation, ...waves.map((wave) => wave.events)) };
}
