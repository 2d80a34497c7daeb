import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimStateDir, readSandboxState } from '../../bin/cli/sandbox-state';
import { CliError, ExitCodes } from '../../bin/cli/cli-error';

/** One sandbox per state directory: the claim `certflow sandbox` makes before it starts anything. */
describe('claiming a sandbox state directory', () => {
  let directory: string;
  const path = () => join(directory, 'sandbox.json');
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'certflow-claim-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  function refusal(action: () => unknown): CliError {
    try {
      action();
    } catch (error) {
      if (error instanceof CliError) return error;
      throw error;
    }
    throw new Error('it did not refuse');
  }

  it('claims an empty directory with a starting state file that names this process', () => {
    expect(claimStateDir(path())).toEqual({});
    expect(JSON.parse(readFileSync(path(), 'utf8'))).toEqual(expect.objectContaining({ pid: process.pid, starting: true }));
  });

  it('refuses a second claim while the first one\'s process lives, with exit 5 naming its pid, and leaves its file alone', () => {
    claimStateDir(path());
    const before = readFileSync(path(), 'utf8');

    const error = refusal(() => claimStateDir(path()));

    expect(error.exitCode).toBe(ExitCodes.Refused);
    expect(error.message).toContain(`a sandbox is already starting for ${directory} (pid ${process.pid}`);
    expect(readFileSync(path(), 'utf8')).toBe(before);
  });

  it('takes over a file whose process is gone, and says whose it was', () => {
    const deadPid = spawnSync('true').pid!;
    writeFileSync(path(), JSON.stringify({ pid: deadPid, startedAt: '2026-01-01T00:00:00.000Z', configPath: 'c' }));

    expect(claimStateDir(path())).toEqual({ tookOver: { pid: deadPid, startedAt: '2026-01-01T00:00:00.000Z' } });
    expect(JSON.parse(readFileSync(path(), 'utf8')).pid).toBe(process.pid);
  });

  it('takes over a file that is no state file, saying it names no pid', () => {
    writeFileSync(path(), 'not json');

    expect(claimStateDir(path())).toEqual({ tookOver: {} });
  });

  it('tells a command that the claimed sandbox is still starting (exit 4), not that its file is broken', () => {
    claimStateDir(path());

    const error = refusal(() => readSandboxState({ path: path() }));

    expect(error.exitCode).toBe(ExitCodes.Environment);
    expect(error.message).toBe(`the sandbox (pid ${process.pid}) is still starting: wait until it prints \`certflow sandbox is running\``);
  });
});
