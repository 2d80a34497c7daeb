import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The `certflow` command as a user gets it: `npm install --global` of this checkout into a scratch
 * prefix, then the installed binary run as a child process. What is tested is what `npm link` and
 * `npm install -g .` give an operator, not a TypeScript entry point.
 */
export const REPO = resolve(__dirname, '../..');
export const SEED_CONFIG = join(REPO, 'config', 'econgraph.json');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface InstalledCli {
  /** The installed binary's path (a symlink to dist/certflow.js). */
  bin: string;
  run(args: string[], options?: SpawnSyncOptions): CliRun;
  start(args: string[], options?: { cwd?: string }): ChildProcess;
  uninstall(): void;
}

export function installCli(): InstalledCli {
  const prefix = mkdtempSync(join(tmpdir(), 'certflow-prefix-'));
  const install = spawnSync('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', REPO], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`npm install --global of the checkout failed:\n${install.stderr}`);
  const bin = join(prefix, 'bin', 'certflow');
  return {
    bin,
    run(args, options = {}) {
      const result = spawnSync(bin, args, { cwd: REPO, encoding: 'utf8', timeout: 150_000, ...options });
      return { code: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
    },
    start(args, options = {}) {
      return spawn(bin, args, { cwd: options.cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    uninstall() {
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** Resolves with the process's combined output once `pattern` appears in it; rejects if it exits first. */
export function outputMatching(child: ChildProcess, pattern: RegExp, transcript: { text: string }): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      if (pattern.test(transcript.text)) {
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
        child.off('exit', onExit);
        resolvePromise(transcript.text);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`the process exited (${code}) before printing ${pattern}:\n${transcript.text}`));
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

/** Collects a child's stdout and stderr into one transcript. */
export function transcriptOf(child: ChildProcess): { text: string } {
  const transcript = { text: '' };
  child.stdout?.on('data', (chunk: Buffer) => (transcript.text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (transcript.text += chunk.toString('utf8')));
  return transcript;
}
