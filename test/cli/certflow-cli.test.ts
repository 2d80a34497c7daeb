import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { defaultCacheDir } from '../../sandbox/compose/synthesize';
import { installCli, REPO, SEED_CONFIG, type InstalledCli } from '../support/installed-cli';

/** The installed `certflow` binary as a user runs it: a child process, its exit code and its output. */
let cli: InstalledCli;
let scratch: string;
beforeAll(() => {
  cli = installCli();
  scratch = mkdtempSync(join(tmpdir(), 'certflow-cli-'));
});
afterAll(() => {
  cli.uninstall();
  rmSync(scratch, { recursive: true, force: true });
});

const COMMANDS = ['simulate', 'sandbox', 'plan', 'vault-init', 'unseal', 'rotate', 'status', 'compromise', 'expiry', 'version', 'completion'];

function badConfig(): string {
  const config = JSON.parse(readFileSync(SEED_CONFIG, 'utf8'));
  config.vault.threshold = 9;
  const path = join(scratch, 'bad.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe('the installed certflow command', () => {
  it('prints its version with --version, version, and version -o json', () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

    expect(cli.run(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(cli.run(['version']).stdout).toBe(`certflow ${version} (Node ${process.versions.node})\n`);
    expect(JSON.parse(cli.run(['version', '-o', 'json']).stdout)).toEqual({ certflow: version, node: process.versions.node });
    expect(parseYaml(cli.run(['version', '-o', 'yaml']).stdout)).toEqual({ certflow: version, node: process.versions.node });
    expect(JSON.parse(cli.run(['version', '--json']).stdout)).toEqual({ certflow: version, node: process.versions.node });
  });

  it.each(COMMANDS)('shows the help of %s, with its usage, examples and exit codes, by --help and by help <command>', (command) => {
    const byFlag = cli.run([command, '--help']);
    const byHelp = cli.run(['help', command]);

    expect(byFlag.code).toBe(0);
    expect(byHelp).toEqual(byFlag);
    expect(byFlag.stdout).toContain(`Usage: certflow ${command}`);
    expect(byFlag.stdout).toMatch(/Examples:\n {2}\$ /);
    expect(byFlag.stdout).toContain('70 internal error');
    expect(byFlag.stdout).toContain('--config <file>');
  });

  it('scopes flags to their command: another command\'s flag exits 2, and a near miss gets a suggestion', () => {
    const foreign = cli.run(['rotate', '--fault', 'vault:issue']);
    const nearMiss = cli.run(['simulate', '--servics', '3']);

    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain("unknown option '--fault'");
    expect(nearMiss.code).toBe(2);
    expect(nearMiss.stderr).toContain('(Did you mean --services?)');
  });

  it('refuses an unknown command with exit code 2 and suggests the nearest one', () => {
    const run = cli.run(['rotat']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'rotat'");
    expect(run.stderr).toContain('(Did you mean rotate?)');
  });

  it('validates a flag value before doing anything, with exit code 2', () => {
    const run = cli.run(['simulate', '--services', '0']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('a whole number from 1 to 10000');
  });

  it.each([
    ['simulate'],
    ['sandbox'],
    ['plan', '--local'],
    ['vault-init', '--local'],
    ['unseal', '--local'],
    ['rotate', '--local'],
    ['status', '--local'],
    ['compromise', '--local', '--service', 'backend', '--reason', 'keyCompromise'],
  ])('honours --config in %s: an invalid config exits 3 naming the field, before anything runs', (...args) => {
    const run = cli.run([...args, '--config', badConfig()]);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('vault.threshold: must not exceed vault.shares');
    expect(run.stdout).toBe('');
  });

  it('says how to start a sandbox when --local finds none, with exit code 4', () => {
    const run = cli.run(['unseal', '--local', '--config', SEED_CONFIG], { cwd: scratch });

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('start one with `certflow sandbox`');
  });

  it.each([
    [['rotate', '--region', 'eu-west-1', '--state-machine-arn', 'arn:aws:states:eu-west-1:123456789012:stateMachine:certflow-rotation'], /^certflow: no AWS credentials: pass --profile/],
    [['rotate', '--state-machine-arn', 'not-an-arn'], /^certflow: no AWS region: pass --region/],
    // No --region: the ARN's region is used, so what is missing is credentials, not a region.
    [['unseal', '--state-machine-arn', 'arn:aws:states:eu-west-1:123456789012:stateMachine:certflow-unseal'], /^certflow: no AWS credentials: pass --profile/],
    [['rotate', '--stack', 'certflow-econgraph'], /^certflow: no AWS (credentials|region)/],
  ])('answers an AWS environment that is not ready with one line and the fix, exit 4: %j', (args, message) => {
    const offline: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(scratch, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'none') };
    for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete offline[name];

    const run = cli.run([...args, '--config', SEED_CONFIG], { cwd: scratch, env: offline });

    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a compromise naming a service the config does not declare, sending nothing', () => {
    const run = cli.run(['compromise', '--local', '--service', 'nosuch', '--reason', 'keyCompromise', '--config', SEED_CONFIG], { cwd: scratch });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not a service of');
    expect(run.stderr).toContain('nosuch');
  });

  it('colours errors only on a terminal or when asked, never with NO_COLOR or --no-color', () => {
    const red = '\x1b[31m';
    const env = (extra: Record<string, string>) => ({ env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...extra } });

    expect(cli.run(['rotat'], env({})).stderr).not.toContain(red);
    expect(cli.run(['rotat'], env({ FORCE_COLOR: '1' })).stderr).toContain(red);
    expect(cli.run(['rotat'], env({ FORCE_COLOR: '1', NO_COLOR: '1' })).stderr).not.toContain(red);
    expect(cli.run(['rotat', '--no-color'], env({ FORCE_COLOR: '1' })).stderr).not.toContain(red);
  });

  it('asks on a terminal before reporting a compromise, and a "no" sends nothing (exit 5); colour is on there', () => {
    if (spawnSync('script', ['--version'], { encoding: 'utf8' }).status !== 0) {
      console.warn('util-linux script is not installed: skipping the pseudo-terminal check');
      return;
    }
    const command = `${cli.bin} compromise --local --service backend --reason keyCompromise --config ${SEED_CONFIG}`;

    // script(1) runs the command on a pseudo-terminal, as a person at a terminal would.
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { input: 'n\n', encoding: 'utf8', cwd: scratch, env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', CI: 'true', TERM: 'xterm-256color' } });

    expect(run.status).toBe(5);
    expect(run.stdout).toContain('Report a compromise of services backend (keyCompromise)? certflow will revoke and reissue. [y/N]');
    expect(run.stdout).toContain('not confirmed: nothing was sent');
    expect(run.stdout).toContain('\x1b[31mcertflow:');
  });

  it('asks on a terminal before forcing a new intermediate, and a "no" starts nothing (exit 5)', () => {
    if (spawnSync('script', ['--version'], { encoding: 'utf8' }).status !== 0) {
      console.warn('util-linux script is not installed: skipping the pseudo-terminal check');
      return;
    }
    // No sandbox runs here: a "yes" would fail with exit 4, so exit 5 shows the question came first.
    const run = spawnSync('script', ['-qec', `${cli.bin} rotate --local --intermediate --config ${SEED_CONFIG}`, '/dev/null'], { input: 'no\n', encoding: 'utf8', cwd: scratch });

    expect(run.status).toBe(5);
    expect(run.stdout).toContain('Force a new intermediate CA now? Every service certificate will be reissued under it. [y/N]');
    expect(run.stdout).toContain('not confirmed: nothing was sent');
  });

  it('prints bash and zsh completion scripts that name every command and each command\'s own flags', () => {
    const bash = cli.run(['completion', 'bash']);
    const zsh = cli.run(['completion', 'zsh']);

    expect(bash.code).toBe(0);
    for (const command of COMMANDS) expect(bash.stdout).toContain(command);
    expect(bash.stdout).toMatch(/simulate\) flags="--services --fault"/);
    expect(bash.stdout).toContain('complete -F _certflow certflow');
    expect(spawnSync('bash', ['-n'], { input: bash.stdout }).status).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef certflow\n/);
    expect(cli.run(['completion', 'fish']).code).toBe(2);
  });

  it('runs simulate -o json from the cached assembly on the synthesized bundles: nothing synthesized, nothing left in the temp directory', () => {
    const tmp = mkdtempSync(join(scratch, 'tmp-'));
    const cacheBefore = readdirSync(defaultCacheDir()).filter((name) => name.startsWith('assembly-') || name.startsWith('.partial-'));

    const run = cli.run(['simulate', '-o', 'json'], { env: { ...process.env, TMPDIR: tmp } });

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      execution: { status: string };
      outcome: string;
      intermediate: { rotated: boolean };
      services: Array<{ service: string; oldSerial?: string; newSerial?: string; verdict?: string }>;
      secretScan: { found: number };
      events: Array<{ detailType: string }>;
      assembly: { cached: boolean };
    };
    expect([report.ok, report.execution.status, report.outcome, report.intermediate.rotated]).toEqual([true, 'SUCCEEDED', 'Succeeded', true]);
    expect(report.services.map((service) => [service.service, service.verdict])).toEqual([
      ['backend', 'Valid'],
      ['chart-api', 'Valid'],
      ['frontend', 'Valid'],
      ['keycloak', 'Valid'],
      ['mcp-server', 'Valid'],
    ]);
    expect(report.services.every((service) => service.newSerial && service.newSerial !== service.oldSerial)).toBe(true);
    expect(report.events.map((event) => event.detailType)).toEqual(['Vault Unsealed', 'Rotation Started', 'Rotation Succeeded']);
    expect(report.secretScan.found).toBe(0);
    expect(run.stdout).not.toMatch(/hvs\.[A-Za-z0-9]{10,}|PRIVATE KEY/);
    expect(report.assembly.cached).toBe(true);
    expect(run.stderr).not.toMatch(/synthesiz|Bundling asset/);
    expect(readdirSync(defaultCacheDir()).filter((name) => name.startsWith('assembly-') || name.startsWith('.partial-'))).toEqual(cacheBefore);
    expect(readdirSync(tmp)).toEqual([]);
  }, 180_000);

  it('simulate --fault vault:issue:after=2 ends rolled back with exit code 1 and a clear message', () => {
    const run = cli.run(['simulate', '--fault', 'vault:issue:after=2']);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Fault injected: Vault answers 500 on pki_int/issue');
    expect(run.stdout).toMatch(/Result: ROLLED BACK after VaultUnavailableError/);
    expect(run.stdout).toMatch(/restored the previous issuer and every touched Secret byte for byte/);
    expect(run.stdout).toContain('Rotation Rolled Back');
  }, 180_000);

  it('refuses a fault aimed at a service the config does not declare, before starting anything', () => {
    const run = cli.run(['simulate', '--fault', 'kubernetes:rollout:service=nosuch']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('service "nosuch" is not a service of this config');
    expect(run.stdout).toBe('');
  });

  it('refuses an unknown fault with exit code 2 and the list of faults', () => {
    const run = cli.run(['simulate', '--fault', 'vault:explode']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown fault "vault:explode"');
    expect(run.stderr).toContain('kubernetes:rollout');
  });
});
