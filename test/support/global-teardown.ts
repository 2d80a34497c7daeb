import { rmSync } from 'node:fs';
import { RUN_SCRATCH_ENV } from './run-scratch';

/** Removes the run's scratch directory (its TMPDIR): nothing of the run is left behind. */
export default async function globalTeardown(): Promise<void> {
  const scratch = process.env[RUN_SCRATCH_ENV];
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
