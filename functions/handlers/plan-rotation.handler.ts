import { PlanRotationInputSchema } from '../contracts/plan-dry-run';
import { planDryRun, planRotation } from '../steps/plan-rotation';
import { rotationHandler } from './kit/rotation-handler';

/** The run id a dry run logs under: it is no run (and no run id has this form). */
const DRY_RUN_LOG_ID = 'dry-run';

/**
 * PlanRotation: `{run, batchesPerWave}` -> the plan (`$.plan`); batches and waves are stored in the
 * ledger. `{dryRun}` (`certflow plan --stack`) -> the decisions only, from the half of the step
 * that writes nothing.
 */
export const makeHandler = rotationHandler(
  'PlanRotation',
  PlanRotationInputSchema,
  (input) => ('run' in input ? input.run.runId : DRY_RUN_LOG_ID),
  async (runtime, input, log): Promise<unknown> => ('run' in input ? planRotation(runtime, input.run, log, input.batchesPerWave) : planDryRun(runtime, input.dryRun, log)),
);
export const handler = makeHandler(process.env);
