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
  it('simulate --json runs a full rotation with a new intermediate and finds no secret in its output', () => {
    const run = certflow('simulate', '--json');

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      execution: { status: string };
      outcome: string;
      intermediate: { rotated: boolean };
      services: Array<{ service: string; oldSerial?: string; newSerial?: string; verdict?: string }>;
      secretScan: { found: number; secretsLookedFor: number };
      events: Array<{ detailType: string }>;
      transitions: number;
      cost: { usd: { total: number } };
    };
    expect(report.ok).toBe(true);
    expect([report.execution.status, report.outcome, report.intermediate.rotated]).toEqual(['SUCCEEDED', 'Succeeded', true]);
    expect(report.services.map((service) => [service.service, service.verdict])).toEqual([
      ['backend', 'Valid'],
      ['chart-api', 'Valid'],
      ['frontend', 'Valid'],
      ['keycloak', 'Valid'],
      ['mcp-server', 'Valid'],
    ]);
    expect(report.services.every((service) => service.newSerial && service.newSerial !== service.oldSerial)).toBe(true);
    expect(report.events.map((event) => event.detailType)).toEqual(['Vault Unsealed', 'Rotation Started', 'Rotation Succeeded']);
    expect(report.transitions).toBeGreaterThan(20);
    expect(report.cost.usd.total).toBeGreaterThan(0);
    expect(report.secretScan.found).toBe(0);
    expect(run.stdout).not.toMatch(/hvs\.[A-Za-z0-9]{10,}|PRIVATE KEY/);
  }, 180_000);

  it('simulate --fault vault:issue:after=2 ends rolled back with exit code 1 and a clear message', () => {
    const run = certflow('simulate', '--fault', 'vault:issue:after=2');

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Fault injected: Vault answers 500 on pki_int/issue');
    expect(run.stdout).toMatch(/Result: ROLLED BACK after VaultUnavailableError/);
    expect(run.stdout).toMatch(/restored the previous issuer and every touched Secret byte for byte/);
    expect(run.stdout).toContain('Rotation Rolled Back');
  }, 180_000);

  it('refuses an unknown fault with exit code 2 and the list of faults', () => {
    const run = certflow('simulate', '--fault', 'vault:explode');

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown fault "vault:explode"');
    expect(run.stderr).toContain('kubernetes:rollout');
  });

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
