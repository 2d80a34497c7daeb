import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { get as httpsGet } from 'node:https';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { RotationStates } from '../../functions/contracts/rotation-payloads';
import { installCli, outputMatching, SEED_CONFIG, transcriptOf, type InstalledCli } from '../support/installed-cli';

/**
 * The operator commands as a user runs them: the installed `certflow sandbox --uninitialized` in
 * one process (started from an unrelated directory, so the CLI must find its own files from its
 * location), brought to a working PKI by the README's walk-through (`vault-init`, `unseal`,
 * `pki-setup`), then `rotate`, `status` and `compromise --local` in others, talking to it over its
 * recorded endpoints.
 */
const config = SEED_CONFIG;

describe('the operator commands against a running sandbox', () => {
  let cwd: string;
  let cli: InstalledCli;
  let sandbox: ChildProcess;
  let transcript: { text: string };
  const statePath = () => join(cwd, '.certflow', 'sandbox.json');
  const kubeconfigPath = () => join(cwd, '.certflow', 'kubeconfig');
  const vaultCaPath = () => join(cwd, '.certflow', 'vault-ca.pem');
  /** A pid that ran and has ended: the owner of a state file left by a sandbox that died. */
  let deadPid: number;

  function certflow(...args: string[]) {
    return cli.run([...args, '--config', config], { cwd });
  }
  /** The sandbox's recorded state: its endpoints and the provisioned names. */
  const sandboxState = () => JSON.parse(readFileSync(statePath(), 'utf8')) as { awsEnv: Record<string, string>; refs: Record<string, string> };
  /** As against AWS (no --local): with only the environment `certflow sandbox` prints to export. */
  function certflowAws(...args: string[]) {
    return cli.run([...args, '--config', config], { cwd, env: { ...process.env, ...sandboxState().awsEnv } });
  }
  const stack = 'certflow-econgraph';
  /** What `plan --local --json` printed (the test that creates the refused candidate runs it), for `plan --stack` to match. */
  let localPlan: string | undefined;

  beforeAll(async () => {
    cli = installCli();
    cwd = mkdtempSync(join(tmpdir(), 'certflow-operator-'));
    deadPid = spawnSync('true').pid!;
    mkdirSync(join(cwd, '.certflow'));
    writeFileSync(statePath(), JSON.stringify({ pid: deadPid, startedAt: '2026-01-01T00:00:00.000Z' }));
    sandbox = cli.start(['sandbox', '--uninitialized', '--config', config], { cwd });
    transcript = transcriptOf(sandbox);
    await outputMatching(sandbox, /certflow sandbox is running/, transcript);
  }, 180_000);

  afterAll(() => {
    if (sandbox && sandbox.exitCode === null) sandbox.kill('SIGKILL');
    cli.uninstall();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('takes over a state file whose sandbox died, with a note naming its pid', () => {
    // Prose wraps at 100 columns: compare the words.
    expect(transcript.text.replace(/\s+/g, ' ')).toContain(`note: the sandbox recorded in ${statePath()} (pid ${deadPid}, started 2026-01-01T00:00:00.000Z) is no longer running: taking its state directory over`);
    expect(JSON.parse(readFileSync(statePath(), 'utf8')).pid).toBe(sandbox.pid);
  });

  it('walks the --uninitialized sandbox through vault-init, unseal and pki-setup to a PKI, and the cluster is seeded (the rotation below runs on it)', async () => {
    const init = certflow('vault-init', '--local');
    const unseal = certflow('unseal', '--local');
    const setup = certflow('pki-setup', '--local', '--json');

    expect([init.code, unseal.code, { code: setup.code, stderr: setup.stderr }]).toEqual([0, 0, { code: 0, stderr: '' }]);
    const pki = JSON.parse(setup.stdout) as { intermediateIssuerId: string; authRole: string; boundRoles: string[] };
    expect(pki.intermediateIssuerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(pki.authRole).toBe('auth/aws/role/certflow-rotation, auth/aws/role/certflow-compromise');
    expect(pki.boundRoles.length).toBeGreaterThan(0);
    expect(pki.boundRoles.every((arn) => /^arn:aws:iam::000000000000:role\/certflow-econgraph-/.test(arn))).toBe(true);
    expect(setup.stdout).not.toMatch(/hvs\.[A-Za-z0-9]{10,}/);
    await outputMatching(sandbox, /seeded 5 services in econ-graph/, transcript);
  }, 120_000);

  it('refuses a second pki-setup with exit 5, changing nothing', () => {
    const run = certflow('pki-setup', '--local');

    expect(run.code).toBe(5);
    expect(run.stderr).toContain('the PKI is already set up (pki_int has');
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
    expect(result.phases.find((phase) => phase.state === RotationStates.AcquireLock)).toEqual({ state: RotationStates.AcquireLock, entered: 1, exited: 1, status: 'done' });
    expect(result.phases.filter((phase) => phase.status !== 'done')).toEqual([]);
    expect(result.phases.map((phase) => phase.state)).toContain(RotationStates.Finalize);
    expect(result.failures).toEqual([]);
    expect(result.current).toBe(RotationStates.Succeeded);
  }, 60_000);

  it('status in text fits 100 columns with every serial whole; -o wide lists every state and the ARN', () => {
    const document = JSON.parse(certflow('status', '--local', '--json').stdout) as { executionArn: string; services: Array<{ newSerial: string; oldSerial: string }> };

    const text = certflow('status', '--local');
    const wide = certflow('status', '--local', '-o', 'wide');

    expect([text.code, wide.code]).toEqual([0, 0]);
    expect(text.stdout).toMatch(/^Rotation [0-9a-f-]+: SUCCEEDED/);
    expect(text.stdout).toMatch(/^states: \d+ done \(all of them: -o wide\)$/m);
    expect(text.stdout.split('\n').filter((line) => line.length > 100)).toEqual([]);
    for (const service of document.services) expect(text.stdout).toContain(`new ${service.newSerial}`);
    expect(wide.stdout).toMatch(/PrepareIntermediate\s+done/);
    expect(wide.stdout).toContain(document.executionArn);
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

  it('runs --local lists the rotation run, whole name and status, newest first', () => {
    const status = JSON.parse(certflow('status', '--local', '--json').stdout) as { name: string };

    const run = certflow('runs', '--local', '--json');

    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout) as Array<{ workflow: string; name: string; status: string }>;
    expect(listed.find((entry) => entry.name === status.name)).toEqual(expect.objectContaining({ workflow: 'Rotation', status: 'SUCCEEDED' }));
  });

  it('runs --stack reads the state machines from the sandbox\'s CloudFormation, as against AWS, and lists what runs --local lists', () => {
    const local = certflow('runs', '--local', '--workflow', 'rotation', '--json');

    const aws = certflowAws('runs', '--stack', stack, '--workflow', 'rotation', '--json');

    expect({ code: aws.code, stderr: aws.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(aws.stdout)).toEqual(JSON.parse(local.stdout));
    expect(JSON.parse(aws.stdout)).not.toEqual([]);
  });

  it('status shows the rotation\'s services with whole serials and their verdicts', () => {
    const run = certflow('status', '--local', '--json');

    const result = JSON.parse(run.stdout) as { services: Array<{ service: string; newSerial: string; verdict: string }> };
    expect(result.services.map((service) => [service.service, service.verdict])).toEqual([
      ['backend', 'Valid'],
      ['chart-api', 'Valid'],
      ['frontend', 'Valid'],
      ['keycloak', 'Valid'],
      ['mcp-server', 'Valid'],
    ]);
    expect(result.services.every((service) => /^([0-9a-f]{2}:){7,}[0-9a-f]{2}$/.test(service.newSerial))).toBe(true);
  });

  it('plan --local is a dry run of the Plan step: every target\'s decision and reason, and the candidate the policy refuses', async () => {
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(join(cwd, '.certflow', 'kubeconfig'));
    // A labelled Secret nobody declared: discovery must refuse it, and the plan must say so.
    await kubeconfig.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: 'econ-graph',
      body: { metadata: { name: 'rogue-tls', labels: { 'certflow.io/managed': 'true' } }, type: 'Opaque', data: {} },
    });

    const run = certflow('plan', '--local', '--json');
    localPlan = run.stdout;

    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { targets: Array<{ service: string; due: boolean; reason: string }>; rejected: Array<{ object: string; reason: string }> };
    expect(result.targets.map((target) => target.service).sort()).toEqual(['backend', 'chart-api', 'frontend', 'keycloak', 'mcp-server']);
    // Renewed under the new intermediate a moment ago: nothing is due, and each says why.
    expect(result.targets.map((target) => [target.due, target.reason])).toEqual(result.targets.map(() => [false, 'UpToDate']));
    expect(result.rejected).toEqual([expect.objectContaining({ object: 'Secret primary/econ-graph/rogue-tls', reason: 'NotDeclared' })]);
  }, 60_000);

  it('plan --stack invokes the PlanRotation function through the sandbox\'s Lambda API and prints what plan --local printed, writing nothing', async () => {
    const state = sandboxState();
    const dynamoDb = new DynamoDBClient({ region: state.awsEnv.AWS_REGION!, endpoint: state.awsEnv.AWS_ENDPOINT_URL_DYNAMODB!, credentials: { accessKeyId: state.awsEnv.AWS_ACCESS_KEY_ID!, secretAccessKey: state.awsEnv.AWS_SECRET_ACCESS_KEY! } });
    const ledgerTable = Object.entries(state.refs).find(([logicalId]) => logicalId.startsWith('LedgerTable'))![1];
    const ledgerItems = async () => (await dynamoDb.send(new ScanCommand({ TableName: ledgerTable, Select: 'COUNT' }))).Count;
    const before = { ledger: await ledgerItems(), events: (transcript.text.match(/^event /gm) ?? []).length };

    const aws = certflowAws('plan', '--stack', stack, '--json');

    expect({ code: aws.code, stderr: aws.stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(aws.stdout) as { targets: unknown[]; rejected: Array<{ object: string }> };
    expect(result).toEqual(JSON.parse(localPlan!));
    expect(result.targets).toHaveLength(5);
    expect(result.rejected.map((candidate) => candidate.object)).toEqual(['Secret primary/econ-graph/rogue-tls']);
    expect({ ledger: await ledgerItems(), events: (transcript.text.match(/^event /gm) ?? []).length }).toEqual(before);
    dynamoDb.destroy();
  }, 60_000);

  it('plan --local on a terminal shows its progress in place and prints every decision within 100 columns', () => {
    if (spawnSync('script', ['--version'], { encoding: 'utf8' }).status !== 0) {
      console.warn('util-linux script is not installed: skipping the pseudo-terminal check');
      return;
    }

    const { NO_COLOR: _noColor, FORCE_COLOR: _forceColor, ...inherited } = process.env;
    // CI is set as a CI runner sets it: colour on a terminal must not depend on it.
    const env = { ...inherited, CI: 'true', TERM: 'xterm-256color' };
    const run = spawnSync('script', ['-qec', `${cli.bin} plan --local --config ${config}`, '/dev/null'], { encoding: 'utf8', cwd, env });

    expect(run.status).toBe(0);
    // The progress line is dim and erased (CR, erase line) before the result is printed.
    expect(run.stdout).toContain('\x1b[2m… reading the issuers and the targets\x1b[22m\r\x1b[2K');
    const lines = run.stdout.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r?\n/);
    expect(lines.filter((line) => /^  primary\/econ-graph\/\S+\s+(tls-secret|cert-manager)\s+keep\s+UpToDate$/.test(line))).toHaveLength(5);
    expect(lines).toContain('  Secret primary/econ-graph/rogue-tls  NotDeclared');
    expect(lines.filter((line) => line.replace(/\r/g, '').length > 100)).toEqual([]);
  }, 60_000);

  it('status of a run that does not exist says so in one line with where to look, exit 2, no stack', () => {
    const run = certflow('status', '--local', 'no-such-run');

    expect(run.code).toBe(2);
    expect(run.stderr).toBe('certflow: no such execution: no-such-run; list the runs with `certflow runs`\n');
  });

  it('refuses a second sandbox for the same state directory, naming the first one\'s pid', () => {
    const run = certflow('sandbox');

    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`pid ${sandbox.pid}`);
  });

  it('writes a kubeconfig (a context per declared cluster) that kubectl uses to apply, get certificates and get secrets', () => {
    const kubectl = (...args: string[]) => spawnSync('kubectl', ['--cache-dir', join(cwd, 'kubectl-cache'), ...args], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfigPath() } });
    if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status !== 0) {
      console.warn('kubectl is not installed: skipping the kubeconfig check');
      return;
    }
    const manifest = join(cwd, 'extra.yaml');
    writeFileSync(
      manifest,
      ['apiVersion: cert-manager.io/v1', 'kind: Certificate', 'metadata: {name: extra, namespace: econ-graph}', 'spec:', '  secretName: extra-tls', '  dnsNames: [extra.econ-graph.svc]', '  issuerRef: {name: vault-issuer, kind: Issuer}'].join('\n'),
    );

    const applied = kubectl('apply', '-f', manifest);
    const certificates = kubectl('get', 'certificate', '-n', 'econ-graph', '-o', 'name');
    const secrets = kubectl('--context', 'primary', 'get', 'secret', 'backend-tls', '-o', 'jsonpath={.type}');

    expect(transcript.text).toContain(`export KUBECONFIG=${kubeconfigPath()}`);
    expect({ code: applied.status, stdout: applied.stdout }).toEqual({ code: 0, stdout: 'certificate.cert-manager.io/extra created\n' });
    expect(certificates.stdout.split('\n').filter(Boolean).sort()).toEqual(['certificate.cert-manager.io/extra', 'certificate.cert-manager.io/frontend', 'certificate.cert-manager.io/mcp-server']);
    expect(secrets.stdout).toBe('kubernetes.io/tls');
  });

  it('prints an https VAULT_ADDR and a VAULT_CACERT file that openssl and Node\'s TLS trust for the sandbox\'s Vault, and no other CA does', async () => {
    const address = /export VAULT_ADDR=(https:\/\/127\.0\.0\.1:(\d+))\n/.exec(transcript.text);
    const caFile = /export VAULT_CACERT=(\S+)/.exec(transcript.text)?.[1];
    expect(address).not.toBeNull();
    expect(caFile).toBe(vaultCaPath());
    const port = address![2]!;

    // openssl, independent of certflow and of Node, verifies the served chain against the file.
    const pinned = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', caFile!, '-verify_return_error', '-brief'], { input: '', encoding: 'utf8' });
    // With the system's roots alone, the same handshake fails: only the sandbox's CA vouches for it.
    const unpinned = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-verify_return_error', '-brief'], { input: '', encoding: 'utf8' });
    // Node's TLS, with the file as its only CA, reads the seal status as the vault CLI would.
    const sealed = await new Promise<unknown>((resolve, reject) =>
      httpsGet(`${address![1]}/v1/sys/seal-status`, { ca: readFileSync(caFile!) }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(JSON.parse(body)));
      }).on('error', reject),
    );

    expect({ code: pinned.status, verified: /Verification: OK|Verify return code: 0/.test(pinned.stderr + pinned.stdout) }).toEqual({ code: 0, verified: true });
    expect({ code: unpinned.status, reason: /self[- ]signed|unable to get local issuer/i.test(unpinned.stderr + unpinned.stdout) }).toEqual({ code: 1, reason: true });
    expect(sealed).toMatchObject({ initialized: true, sealed: false });
  });

  it('compromise --local --wait follows the response it starts to its end and exits 0 when it succeeded', () => {
    const run = certflow('compromise', '--local', '--service', 'chart-api', '--reason', 'keyCompromise', '--wait', '--json');

    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { eventId: string; run: { status: string; workflow: string; phases: Array<{ state: string }> } };
    expect(result.run.status).toBe('SUCCEEDED');
    expect(result.run.workflow).toMatch(/^CompromiseWorkflow/);
    expect(result.run.phases.length).toBeGreaterThan(3);
  }, 120_000);

  it('an intermediate report waits for approval; deny --local ends it Rejected, and approve of an ended run exits 5 (nothing changed: compromise-response.test.ts)', async () => {
    // plan --local on the walked-through PKI (it failed with `entry for role "certflow-lambda" not found` before pki-setup).
    const planned = certflow('plan', '--local', '--json');
    expect({ code: planned.code, stderr: planned.stderr }).toEqual({ code: 0, stderr: '' });
    const plan = JSON.parse(planned.stdout) as { issuers: Array<{ issuerId: string; isDefault: boolean }> };
    const issuer = plan.issuers.find((candidate) => candidate.isDefault)!.issuerId;
    expect(certflow('compromise', '--local', '--intermediate', issuer, '--reason', 'cACompromise', '--yes').code).toBe(0);
    await outputMatching(sandbox, /event [0-9a-f-]+: Compromise Approval Requested \(certflow\)/, transcript);
    const [latest] = JSON.parse(certflow('runs', '--local', '--workflow', 'compromise', '--limit', '1', '--json').stdout) as Array<{ name: string; status: string }>;
    expect(latest?.status).toBe('RUNNING');

    const denied = certflow('deny', '--local', latest!.name, '--yes', '--json');

    expect({ code: denied.code, stderr: denied.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(denied.stdout)).toEqual(expect.objectContaining({ decision: 'deny', request: expect.objectContaining({ scope: 'intermediate', issuerId: issuer }) }));
    await outputMatching(sandbox, /event [0-9a-f-]+: Compromise Rejected \(certflow\)/, transcript);
    const late = certflow('approve', '--local', latest!.name, '--yes');
    expect(late.code).toBe(5);
    expect(late.stderr).toMatch(/not waiting for an approval|no longer waits/);
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
    expect(existsSync(kubeconfigPath())).toBe(false);
    expect(existsSync(vaultCaPath())).toBe(false);
  }, 60_000);
});
