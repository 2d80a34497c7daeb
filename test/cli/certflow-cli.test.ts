import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The operator CLI as a user runs it: a child process, its exit code and its output. */
const repo = resolve(__dirname, '../..');
const tsx = join(repo, 'node_modules', '.bin', 'tsx');

function certflow(...args: string[]) {
  const result = spawnSync(tsx, ['bin/certflow.ts', ...args], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the certflow CLI', () => {
  it('simulate --json unseals every sandbox node through the synthesized state machine and finds no secret in its output', () => {
    const run = certflow('simulate', '--json');

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      execution: { status: string };
      nodes: Array<{ nodeId: string; before: string; after: string; outcome: string }>;
      secretScan: { found: number; secretsLookedFor: number };
      events: Array<{ detailType: string }>;
    };
    expect(report.ok).toBe(true);
    expect(report.execution.status).toBe('SUCCEEDED');
    expect(report.nodes.map((node) => [node.nodeId, node.before, node.outcome, node.after])).toEqual([
      ['vault-0', 'sealed', 'Unsealed', 'unsealed'],
      ['vault-1', 'sealed', 'Unsealed', 'unsealed'],
      ['vault-2', 'sealed', 'Unsealed', 'unsealed'],
    ]);
    expect(report.events.map((event) => event.detailType)).toEqual(['Vault Unsealed']);
    expect(report.secretScan.secretsLookedFor).toBeGreaterThan(10);
    expect(report.secretScan.found).toBe(0);
    expect(run.stdout).not.toMatch(/hvs\.[A-Za-z0-9]{10,}/);
  }, 120_000);

  it('stops with exit code 3 and names the field when the config is invalid, before synthesizing anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certflow-cli-'));
    const config = JSON.parse(readFileSync(join(repo, 'config/econgraph.json'), 'utf8'));
    config.vault.threshold = 9;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(config));

    const run = certflow('simulate', '--config', join(dir, 'bad.json'));

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('vault.threshold: must not exceed vault.shares');
    expect(run.stdout).not.toContain('synthesize');
  });

  it('refuses an unknown command with exit code 2 and the usage', () => {
    const run = certflow('rotate-everything');

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "rotate-everything"');
    expect(run.stderr).toContain('Commands:');
  });

  it('says how to start a sandbox when --local finds none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certflow-cli-'));
    const result = spawnSync(tsx, [join(repo, 'bin/certflow.ts'), 'unseal', '--local', '--config', join(repo, 'config/econgraph.json')], { cwd: dir, encoding: 'utf8' });

    expect(result.status).toBe(4);
    expect(result.stderr).toContain('start one with `certflow sandbox`');
  });
});
