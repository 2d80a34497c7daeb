import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startKubernetesEmulator, type KubernetesEmulatorHandle, type RolloutEvent } from '../../sandbox/kubernetes/kubernetes-emulator';

/**
 * The real kubectl against the emulator (DESIGN.md: "kubectl pointed at it must be able to get,
 * list and patch those kinds"). HTTPS, because kubectl sends a kubeconfig's token only over TLS.
 */

function findOnPath(command: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(directory, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const kubectlPath = findOnPath('kubectl');
const describeWithKubectl = kubectlPath ? describe : describe.skip;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const namespace = 'payments';

function nextRollout(emulator: KubernetesEmulatorHandle, deployment: string): Promise<RolloutEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no rollout of ${deployment}`)), 5000);
    const stop = emulator.onRollout((event) => {
      if (event.deployment !== deployment) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

describeWithKubectl(kubectlPath ? 'kubectl against the Kubernetes emulator' : 'kubectl against the Kubernetes emulator (skipped: kubectl is not on PATH)', () => {
  let emulator: KubernetesEmulatorHandle;
  let directory: string;

  /** Runs kubectl with the emulator's kubeconfig and a private discovery cache. */
  function kubectl(args: string[], kubeconfig = join(directory, 'kubeconfig')): Promise<Run> {
    return new Promise((resolve) => {
      execFile(kubectlPath!, ['--kubeconfig', kubeconfig, '--cache-dir', join(directory, 'cache'), ...args], { timeout: 30000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** kubectl that must succeed. */
  async function ok(args: string[]): Promise<string> {
    const run = await kubectl(args);
    if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    return run.stdout;
  }

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'certflow-kubectl-'));
    emulator = await startKubernetesEmulator({ tls: true, rolloutDelayMs: 20 });
    writeFileSync(join(directory, 'kubeconfig'), emulator.kubeconfig({ namespace }), { mode: 0o600 });

    const { store } = emulator;
    store.create('namespaces', { metadata: { name: namespace } });
    store.create('secrets', {
      metadata: { name: 'web-tls', namespace, labels: { app: 'web' } },
      type: 'kubernetes.io/tls',
      stringData: { 'tls.crt': 'CERT', 'tls.key': 'KEY' },
    });
    for (const app of ['web', 'api']) {
      const rolledOut = nextRollout(emulator, app);
      store.create('deployments', {
        metadata: { name: app, namespace, labels: { app } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app } },
          template: { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: `registry.local/${app}:1` }] } },
        },
      });
      await rolledOut;
    }
    store.create('certificates', { metadata: { name: 'web', namespace }, spec: { secretName: 'web-tls', issuerRef: { name: 'vault' } } });
    store.mutate('certificates', { namespace, name: 'web' }, (certificate) => {
      certificate.status = { conditions: [{ type: 'Ready', status: 'True', message: 'Certificate is up to date and has not expired' }] };
    });
  });

  afterAll(async () => {
    await emulator?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('lists secrets as a table', async () => {
    const stdout = await ok(['get', 'secrets', '-n', namespace]);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'TYPE', 'DATA', 'AGE']);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.split(/\s+/).slice(0, 3)).toEqual(['web-tls', 'kubernetes.io/tls', '2']);
  });

  it('gets one secret as JSON', async () => {
    const secret = JSON.parse(await ok(['get', 'secret', 'web-tls', '-n', namespace, '-o', 'json'])) as { kind: string; data: Record<string, string>; metadata: { uid: string } };
    expect(secret.kind).toBe('Secret');
    expect(secret.data).toEqual({ 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') });
    expect(secret.metadata.uid).toBe(emulator.store.get('secrets', { namespace, name: 'web-tls' })?.metadata.uid);
  });

  it('selects deployments by label through the short name', async () => {
    const stdout = await ok(['get', 'deploy', '-n', namespace, '-l', 'app=web']);
    const rows = stdout.trim().split('\n').slice(1);
    expect(rows.map((row) => row.split(/\s+/).slice(0, 4))).toEqual([['web', '2/2', '2', '2']]);
  });

  it('lists cert-manager certificates by their qualified name with the printer columns', async () => {
    const stdout = await ok(['get', 'certificates.cert-manager.io', '-n', namespace]);
    const [header, row] = stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'READY', 'SECRET', 'AGE']);
    expect(row!.split(/\s+/).slice(0, 3)).toEqual(['web', 'True', 'web-tls']);
  });

  it('reports a missing object the way a real API server makes kubectl report it', async () => {
    const run = await kubectl(['get', 'secret', 'missing', '-n', namespace]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Error from server (NotFound): secrets "missing" not found');
  });

  it('patches a deployment template with a merge patch, which rolls it out', async () => {
    const rollout = nextRollout(emulator, 'web');
    const stdout = await ok(['patch', 'deployment', 'web', '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-06-01T00:00:00Z' } } } } })]);
    expect(stdout.trim()).toBe('deployment.apps/web patched');

    const deployment = emulator.store.get('deployments', { namespace, name: 'web' });
    expect(deployment?.spec.template.metadata?.annotations).toEqual({ 'kubectl.kubernetes.io/restartedAt': '2025-06-01T00:00:00Z' });
    expect(deployment?.metadata.generation).toBe(2);
    expect(await rollout).toMatchObject({ generation: 2, restartedAt: '2025-06-01T00:00:00Z' });
  });

  it('patches a secret with the default strategic merge patch, and reports a repeat as no change', async () => {
    const patch = JSON.stringify({ metadata: { labels: { rotated: 'true' } } });
    expect((await ok(['patch', 'secret', 'web-tls', '-n', namespace, '-p', patch])).trim()).toBe('secret/web-tls patched');
    expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })?.metadata.labels).toEqual({ app: 'web', rotated: 'true' });

    const version = emulator.store.get('secrets', { namespace, name: 'web-tls' })?.metadata.resourceVersion;
    expect((await ok(['patch', 'secret', 'web-tls', '-n', namespace, '-p', patch])).trim()).toBe('secret/web-tls patched (no change)');
    expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })?.metadata.resourceVersion).toBe(version);
  });

  it('restarts a deployment with kubectl rollout restart', async () => {
    const rollout = nextRollout(emulator, 'api');
    expect((await ok(['rollout', 'restart', 'deployment', 'api', '-n', namespace])).trim()).toBe('deployment.apps/api restarted');
    const event = await rollout;
    expect(event.restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect(emulator.store.get('deployments', { namespace, name: 'api' })?.status?.observedGeneration).toBe(event.generation);
  });

  it('refuses the default strategic patch on a certificate as kubectl sees it on a cluster, and takes a merge patch', async () => {
    const patch = JSON.stringify({ spec: { dnsNames: ['web.payments.svc'] } });
    const refused = await kubectl(['patch', 'certificate', 'web', '-n', namespace, '-p', patch]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('application/strategic-merge-patch+json is not supported by cert-manager.io/v1, Kind=Certificate');

    expect((await ok(['patch', 'cert', 'web', '-n', namespace, '--type', 'merge', '-p', patch])).trim()).toBe('certificate.cert-manager.io/web patched');
    expect(emulator.store.get('certificates', { namespace, name: 'web' })?.spec.dnsNames).toEqual(['web.payments.svc']);
  });

  it('applies a manifest with kubectl apply -f (validated against the served OpenAPI v3), then applies a change to it', async () => {
    const manifest = (value: string) =>
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: applied',
        `  namespace: ${namespace}`,
        'data:',
        `  colour: ${value}`,
        '---',
        'apiVersion: cert-manager.io/v1',
        'kind: Certificate',
        'metadata:',
        '  name: applied-cert',
        `  namespace: ${namespace}`,
        'spec:',
        '  secretName: applied-cert-tls',
        '  dnsNames: [applied.payments.svc]',
        '  issuerRef: {name: vault-issuer, kind: Issuer}',
      ].join('\n');
    const file = join(directory, 'applied.yaml');
    writeFileSync(file, manifest('blue'));

    const created = await kubectl(['apply', '-f', file]);
    writeFileSync(file, manifest('green'));
    const changed = await kubectl(['apply', '-f', file]);

    expect(created).toEqual({ code: 0, stdout: 'configmap/applied created\ncertificate.cert-manager.io/applied-cert created\n', stderr: '' });
    expect(changed.stdout).toContain('configmap/applied configured');
    expect(emulator.store.get('configmaps', { namespace, name: 'applied' })?.data).toEqual({ colour: 'green' });
    expect(emulator.store.get('certificates', { namespace, name: 'applied-cert' })?.spec.secretName).toBe('applied-cert-tls');
  });

  it('creates from a manifest with kubectl create -f, refuses a second create as AlreadyExists, and replaces it with kubectl replace -f', async () => {
    const manifest = (colour: string) =>
      ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: created', `  namespace: ${namespace}`, 'data:', `  colour: ${colour}`].join('\n');
    const file = join(directory, 'created.yaml');
    writeFileSync(file, manifest('blue'));

    const created = await kubectl(['create', '-f', file]);
    const again = await kubectl(['create', '-f', file]);
    writeFileSync(file, manifest('red'));
    const replaced = await kubectl(['replace', '-f', file]);

    expect(created).toEqual({ code: 0, stdout: 'configmap/created created\n', stderr: '' });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Error from server (AlreadyExists): error when creating');
    expect(replaced).toEqual({ code: 0, stdout: 'configmap/created replaced\n', stderr: '' });
    expect(emulator.store.get('configmaps', { namespace, name: 'created' })?.data).toEqual({ colour: 'red' });
  });

  it('applies a changed image to an existing Deployment with kubectl apply -f, which rolls it out', async () => {
    const file = join(directory, 'web.yaml');
    const rollout = nextRollout(emulator, 'web');
    writeFileSync(
      file,
      ['apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: web', `  namespace: ${namespace}`, '  labels: {app: web}', 'spec:', '  replicas: 2', '  selector: {matchLabels: {app: web}}', '  template:', '    metadata: {labels: {app: web}}', '    spec:', '      containers:', '      - {name: web, image: "registry.local/web:2"}'].join('\n'),
    );

    const applied = await kubectl(['apply', '-f', file]);

    expect(applied.stdout).toBe('deployment.apps/web configured\n');
    expect(emulator.store.get('deployments', { namespace, name: 'web' })?.spec.template.spec.containers).toEqual([{ name: 'web', image: 'registry.local/web:2' }]);
    expect((await rollout).deployment).toBe('web');
  });

  it('serves OpenAPI v2 as JSON with a definition per served kind, and v3 per group/version', async () => {
    const v2 = JSON.parse(await ok(['get', '--raw', '/openapi/v2'])) as { swagger: string; definitions: Record<string, { 'x-kubernetes-group-version-kind': unknown[] }> };
    const v3 = JSON.parse(await ok(['get', '--raw', '/openapi/v3'])) as { paths: Record<string, unknown> };

    expect(v2.swagger).toBe('2.0');
    expect(v2.definitions['io.cert-manager.v1.Certificate']?.['x-kubernetes-group-version-kind']).toEqual([{ group: 'cert-manager.io', version: 'v1', kind: 'Certificate' }]);
    expect(Object.keys(v2.definitions)).toEqual(expect.arrayContaining(['io.k8s.api.core.v1.Secret', 'io.k8s.api.core.v1.ConfigMap', 'io.k8s.api.apps.v1.Deployment']));
    expect(Object.keys(v3.paths).sort()).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/cert-manager.io/v1']));
  });

  it('is refused over plain HTTP, where kubectl leaves the token out', async () => {
    const plain = await startKubernetesEmulator();
    try {
      const kubeconfig = join(directory, 'plain-kubeconfig');
      writeFileSync(kubeconfig, plain.kubeconfig(), { mode: 0o600 });
      const run = await kubectl(['get', 'secrets', '-n', 'default'], kubeconfig);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('You must be logged in to the server');
    } finally {
      await plain.close();
    }
  });
});
