import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One scratch directory per jest run, set as TMPDIR for the run (workers and every child process
 * they start inherit it), removed by the global teardown: a test run leaves nothing in the
 * machine's temp directory, whatever a test, a tool (openssl, kubectl) or a library writes there.
 * It sits in the machine's temp directory, not in the checkout: a scratch project under
 * node_modules/ would resolve its packages as `../..` paths instead of `node_modules/...`.
 */
export const RUN_SCRATCH_ENV = 'CERTFLOW_RUN_SCRATCH';
export const RUN_SCRATCH_PREFIX = 'certflow-test-run-';

export function runScratchDir(pid: number = process.pid, base: string = tmpdir()): string {
  return join(base, `${RUN_SCRATCH_PREFIX}${pid}`);
}
