import type { PausableWorkflow, PauseRecord } from '../contracts/pause';

/** Reads the kill switch: the pause of one workflow (its own item or `all`), if any. */
export interface PauseSwitch {
  pauseOf(workflow: PausableWorkflow): Promise<PauseRecord | undefined>;
}
