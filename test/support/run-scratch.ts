import { join } from 'node:path';
import { defaultCacheDir } from '../../sandbox/compose/synthesize';

/**
 * One scratch directory per jest run, set as TMPDIR for the run (workers and every child process
 * they start inherit it), removed by the global teardown: a test run leaves nothing in the
 * machine's temp directory, whatever a test, a tool (openssl, kubectl) or a library writes there.
 */
export const RUN_SCRATCH_ENV = 'CERTFLOW_RUN_SCRATCH';

export function runScratchDir(pid: number = process.pid): string {
  return join(defaultCacheDir(), `test-run-${pid}`);
}
