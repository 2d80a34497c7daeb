import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { RotationStates } from '../../functions/contracts/rotation-payloads';
import { installCli, outputMatching, SEED_CONFIG, transcriptOf, type InstalledCli } from '../support/installed-cli';

/**
 * The operator commands as a user runs them: the installed `certflow sandbox` in one process
 * (started from an unrelated directory, so the CLI must find its own files from its location), and
 * `rotate`, `status` and `compromise --local` in others, talking to it over its recorded endpoints.
 */
const config = SEED_CONFIG;

describe('the operator commands against a running sandbox', () => {
  let cwd: string;
  let cli: InstalledCli;
  let sandbox: ChildProcess;
  let transcript: { text: string };
  const statePath = () => join(cwd, '.certflow', 'sandbox.json');

  function certflow(...args: string[]) {
    return cli.run([...args, '--config', config], { cwd });
  }

  beforeAll(async () => {
    cli = installCli();
    cwd = mkdtempSync(join(tmpdir(), 'certflow-operator-'));
    sandbox = cli.start(['sandbox', '--config', config], { cwd });
    transcript = transcriptOf(sandbox);
    await outputMatching(sandbox, /certflow sandbox is running/, transcript);
  }, 180_000);

  afterAll(() => {
    if (sandbox && sandbox.exitCode === null) sandbox.kill('SIGKILL');
    cli.uninstall();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('refuses to act on the running sandbox with another --config, naming the one it runs', () => {
    const other = join(cwd, 'other.json');
    copyFileSync(config, other);

    const run = cli.run(['status', '--local', '--config', other], { cwd });

    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`was started with --config ${config}`);
  });

  it('rotate --local --intermediate --wait --json runs a rotation to SUCCEEDED through the Step Functions emulator', () => {
    const run = certflow('rotate', '--local', '--intermediate', '--wait', '--json');

    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(run.stdout) as { executionArn: string; status: string; phases: Array<{ state: string; status: string }> };
    expect(result.executionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:RotationWorkflow/);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.phases.map((phase) => phase.state)).toEqual(expect.arrayContaining([RotationStates.AcquireLock, RotationStates.PrepareIntermediate, RotationStates.ActivateIssuer, RotationStates.ReleaseLock]));
  }, 150_000);

  it('status --local --json shows the latest run phase by phase, every phase done', () => {
    const run = certflow('status', '--local', '--json');

    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { status: string; current: string; phases: Array<{ state: string; status: string; entered: number }>; failures: unknown[] };
    expect(result.status).toBe('SUCCEEDED');
    expect(result.phases[0]).toEqual({ state: RotationStates.AcquireLock, entered: 1, exited: 1, status: 'done' });
    expect(result.phases.filter((phase) => phase.status !== 'done')).toEqual([]);
    expect(result.phases.map((phase) => phase.state)).toContain(RotationStates.Finalize);
    expect(result.failures).toEqual([]);
    expect(result.current).toBe(RotationStates.Succeeded);
  }, 60_000);

  it('status in text prints the phase table', () => {
    const run = certflow('status', '--local');

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Rotation [0-9a-f-]+: SUCCEEDED/);
    expect(run.stdout).toMatch(/PrepareIntermediate\s+done/);
  }, 60_000);

  it('compromise --local puts one Compromise Reported event on the certflow bus and prints its id', async () => {
    const run = certflow('compromise', '--local', '--service', 'backend', '--reason', 'keyCompromise', '--ticket', 'SEC-1', '--json');

    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { eventId: string; source: string; detailType: string; detail: { scope: unknown; reason: string; reportedBy: string } };
    expect([result.source, result.detailType]).toEqual(['certflow.security', 'Compromise Reported']);
    expect(result.detail.scope).toEqual({ kind: 'services', services: ['backend'] });
    expect(result.detail.reportedBy).toMatch(/^cli/);
    await outputMatching(sandbox, new RegExp(`event ${result.eventId}: Compromise Reported \\(certflow\\.security\\)`), transcript);
    // The bus rule (synthesized event pattern) started the CompromiseResponse state machine.
    await outputMatching(sandbox, /event [0-9a-f-]+: Compromise Contained \(certflow\)/, transcript);
  }, 60_000);

  it('compromise with --reason nonsense exits 2 naming reason and sends nothing', async () => {
    const before = (transcript.text.match(/Compromise Reported/g) ?? []).length;

    const run = certflow('compromise', '--local', '--service', 'backend', '--reason', 'nonsense');

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/reason: /);
    expect(run.stderr).toContain('nothing was sent');
    expect((transcript.text.match(/Compromise Reported/g) ?? []).length).toBe(before);
  }, 60_000);

  it('compromise with two scopes exits 2 naming the scope', () => {
    const run = certflow('compromise', '--local', '--service', 'backend', '--serial', '0a:0b', '--reason', 'keyCompromise');

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('scope: give exactly one of');
  });

  it('stops on SIGINT and removes its state file', async () => {
    const exited = new Promise<number | null>((resolve) => sandbox.once('exit', (code) => resolve(code)));

    sandbox.kill('SIGINT');

    expect(await exited).toBe(0);
    expect(existsSync(statePath())).toBe(false);
  }, 60_000);
});
