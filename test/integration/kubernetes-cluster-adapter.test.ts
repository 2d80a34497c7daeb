import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { kubeConfigFromOptions } from '../../functions/adapters/kubernetes/kube-auth';
import { KubernetesCluster, type KubernetesClusterOptions } from '../../functions/adapters/kubernetes/kubernetes-cluster';
import {
  CertflowError,
  ErrorNames,
  KubernetesConflictError,
  KubernetesForbiddenError,
  KubernetesNotFoundError,
  KubernetesRequestError,
  KubernetesUnavailableError,
  isRetryable,
} from '../../functions/contracts/errors';
import { K8sNames } from '../../functions/contracts/targets';
import type { Clock } from '../../functions/ports/clock';
import { startKubernetesEmulator, type CertificateObject, type KubernetesEmulatorHandle } from '../../sandbox/kubernetes/kubernetes-emulator';

const namespace = 'payments';
const fixedNow = new Date('2030-01-02T03:04:05.678Z');
const fixedClock: Clock = { now: () => fixedNow };

/** The rejection of a call that must fail. */
async function failureOf(call: Promise<unknown>): Promise<CertflowError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof CertflowError)) throw new Error(`expected a CertflowError, got ${String(outcome)}`);
  return outcome;
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KubernetesCluster over @kubernetes/client-node against the Kubernetes emulator', () => {
  let emulator: KubernetesEmulatorHandle;

  function clusterFor(overrides: Partial<KubernetesClusterOptions> & { token?: string } = {}): KubernetesCluster {
    const { token, ...options } = overrides;
    const kc = kubeConfigFromOptions({ name: 'sandbox', server: emulator.url, token: token ?? emulator.token });
    return new KubernetesCluster({ name: 'sandbox', kubeConfig: () => kc, clock: fixedClock, conflictBackoffMs: 1, ...options });
  }

  beforeEach(async () => {
    emulator = await startKubernetesEmulator({ rolloutDelayMs: 30, namespaces: ['default', namespace, 'billing'] });
  });

  afterEach(async () => {
    await emulator.close();
  });

  describe('Secrets', () => {
    it('writes a new Secret and reads back every byte, binary data included', async () => {
      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const random = randomBytes(4096);
      const cluster = clusterFor();

      const written = await cluster.writeSecret({ namespace, name: 'blob', type: 'Opaque', data: { every: everyByte, random, empty: Buffer.alloc(0) }, labels: { app: 'web' } });
      const read = await cluster.readSecret(namespace, 'blob');

      expect(read).toBeDefined();
      expect(read!.data.every!.equals(everyByte)).toBe(true);
      expect(read!.data.random!.equals(random)).toBe(true);
      expect(read!.data.empty!.length).toBe(0);
      expect(Object.keys(read!.data).sort()).toEqual(['empty', 'every', 'random']);
      expect(read).toMatchObject({ namespace, name: 'blob', type: 'Opaque', labels: { app: 'web' }, annotations: {}, resourceVersion: written.resourceVersion });
      // What the API server stores is the standard base64 of the bytes.
      expect(emulator.store.get('secrets', { namespace, name: 'blob' })?.data?.random).toBe(random.toString('base64'));
    });

    it('writes a kubernetes.io/tls Secret with its type', async () => {
      await clusterFor().writeSecret({ namespace, name: 'web-tls', type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from('CERT'), 'tls.key': Buffer.from('KEY') } });
      expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })?.type).toBe('kubernetes.io/tls');
    });

    it('replaces an existing Secret from the resourceVersion it read, keeping labels and annotations when none are given', async () => {
      const cluster = clusterFor();
      const first = await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('1') }, labels: { app: 'web' }, annotations: { note: 'kept' } });

      const second = await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { w: Buffer.from('2') } });

      expect(Number(second.resourceVersion)).toBeGreaterThan(Number(first.resourceVersion));
      expect(Object.keys(second.data)).toEqual(['w']);
      expect(second.labels).toEqual({ app: 'web' });
      expect(second.annotations).toEqual({ note: 'kept' });
      const stored = emulator.store.get('secrets', { namespace, name: 'web-tls' });
      expect(stored?.metadata.uid).toBeDefined();
      expect(stored?.data).toEqual({ w: Buffer.from('2').toString('base64') });
    });

    it('replaces labels and annotations whole when they are given', async () => {
      const cluster = clusterFor();
      await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: {}, labels: { app: 'web', old: 'x' } });
      const written = await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: {}, labels: { app: 'web' }, annotations: { [K8sNames.BackupOfAnnotation]: 'payments/web' } });
      expect(written.labels).toEqual({ app: 'web' });
      expect(written.annotations).toEqual({ [K8sNames.BackupOfAnnotation]: 'payments/web' });
    });

    it('reads a Secret that does not exist as undefined, not as an error', async () => {
      await expect(clusterFor().readSecret(namespace, 'missing')).resolves.toBeUndefined();
    });

    it('deletes a Secret, and deleting it again succeeds', async () => {
      const cluster = clusterFor();
      await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('1') } });

      await cluster.deleteSecret(namespace, 'web-tls');
      await cluster.deleteSecret(namespace, 'web-tls');

      expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })).toBeUndefined();
    });

    it('lists Secrets by label selector in one namespace and across all namespaces, following pages', async () => {
      const cluster = clusterFor({ pageSize: 2 });
      const managed = { [K8sNames.ManagedLabel]: 'true' };
      for (const [ns, name, labels] of [
        [namespace, 'a', managed],
        [namespace, 'b', managed],
        [namespace, 'c', managed],
        [namespace, 'plain', {}],
        ['billing', 'd', managed],
      ] as const) {
        await cluster.writeSecret({ namespace: ns, name, type: 'Opaque', data: { k: Buffer.from(name) }, labels });
      }

      const inNamespace = await cluster.listSecrets(namespace, `${K8sNames.ManagedLabel}=true`);
      const everywhere = await cluster.listSecrets(undefined, `${K8sNames.ManagedLabel}=true`);
      const unselected = await cluster.listSecrets(namespace, '');

      expect(inNamespace.map((secret) => secret.name)).toEqual(['a', 'b', 'c']);
      expect(inNamespace[2]!.data.k!.toString()).toBe('c');
      expect(everywhere.map((secret) => `${secret.namespace}/${secret.name}`)).toEqual(['billing/d', 'payments/a', 'payments/b', 'payments/c']);
      expect(unselected).toHaveLength(4);
    });

    it('resolves a storm of three 409s on update by re-reading and writing again', async () => {
      const cluster = clusterFor();
      await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('1') } });
      emulator.faults.inject({ verb: 'update', resource: 'secrets', status: 409, times: 3 });

      const written = await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('2') } });

      expect(written.data.v!.toString()).toBe('2');
      expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })?.data?.v).toBe(Buffer.from('2').toString('base64'));
      expect(emulator.faults.active()).toEqual([]);
    });

    it('gives up after its retry budget with a KubernetesConflictError naming the Secret', async () => {
      const cluster = clusterFor({ conflictRetries: 5 });
      await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('1') } });
      emulator.faults.inject({ verb: 'update', resource: 'secrets', status: 409, times: 20 });

      const error = await failureOf(cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('2') } }));

      expect(error).toBeInstanceOf(KubernetesConflictError);
      expect(error.name).toBe(ErrorNames.KubernetesConflict);
      expect(error.message).toContain('Secret payments/web-tls');
      expect(error.message).toContain('6 attempts');
      expect(isRetryable(error)).toBe(false);
      // One first attempt and five retries used six of the twenty faults; the data is unchanged.
      expect(emulator.faults.active()[0]?.remaining).toBe(14);
      expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })?.data?.v).toBe(Buffer.from('1').toString('base64'));
    });

    it('writes against a snapshot it just read in one request, and re-reads when another writer came in between', async () => {
      const cluster = clusterFor();
      await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('1') }, labels: { app: 'web' } });
      const read = await cluster.readSecret(namespace, 'web-tls');
      const before = emulator.requests().length;

      await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('2') } }, read);

      expect(emulator.requests().slice(before).map((request) => request.verb)).toEqual(['update']);
      emulator.store.mutate('secrets', { namespace, name: 'web-tls' }, (secret) => {
        secret.metadata.labels = { app: 'web', touched: 'yes' };
      });
      const stale = await cluster.readSecret(namespace, 'web-tls');
      emulator.store.mutate('secrets', { namespace, name: 'web-tls' }, (secret) => {
        secret.metadata.annotations = { other: 'writer' };
      });
      const written = await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('3') } }, stale);
      expect(written.data.v!.toString()).toBe('3');
      expect(written.annotations).toEqual({ other: 'writer' });
    });

    it('creates a Secret only when none of that name exists, leaving an existing one as it is, in one request', async () => {
      const cluster = clusterFor();
      const before = emulator.requests().length;

      expect(await cluster.createSecret({ namespace, name: 'backup', type: 'Opaque', data: { v: Buffer.from('old') } })).toBe('created');
      expect(await cluster.createSecret({ namespace, name: 'backup', type: 'Opaque', data: { v: Buffer.from('new') } })).toBe('exists');

      expect(emulator.requests().slice(before).map((request) => request.verb)).toEqual(['create', 'create']);
      expect(emulator.store.get('secrets', { namespace, name: 'backup' })?.data).toEqual({ v: Buffer.from('old').toString('base64') });
    });

    it('keeps one connection alive for a sequence of calls instead of one connection per call', async () => {
      const cluster = clusterFor();
      await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('1') } });
      const before = emulator.connections();

      for (let call = 0; call < 10; call += 1) await cluster.readSecret(namespace, 'web-tls');

      expect(emulator.connections() - before).toBe(0);
    });

    it('turns a create that lost a race (409 AlreadyExists) into a replace', async () => {
      const cluster = clusterFor();
      emulator.faults.inject({ verb: 'create', resource: 'secrets', status: 409, times: 1 });

      const written = await cluster.writeSecret({ namespace, name: 'web-tls', type: 'Opaque', data: { v: Buffer.from('1') } });

      expect(written.data.v!.toString()).toBe('1');
      expect(emulator.faults.active()).toEqual([]);
    });

    it('answers a wrong token (401) with KubernetesForbiddenError naming the Secret', async () => {
      const error = await failureOf(clusterFor({ token: 'not-the-token' }).readSecret(namespace, 'web-tls'));

      expect(error).toBeInstanceOf(KubernetesForbiddenError);
      expect(error.name).toBe('KubernetesForbiddenError');
      expect(error.message).toContain('Secret payments/web-tls');
      expect(error.details).toMatchObject({ status: 401, cluster: 'sandbox' });
      expect(isRetryable(error)).toBe(false);
    });

    it('answers RBAC refusal (403) with KubernetesForbiddenError carrying the server reason', async () => {
      emulator.faults.inject({ resource: 'secrets', status: 403 });
      const error = await failureOf(clusterFor().listSecrets(namespace, 'app=web'));
      expect(error).toBeInstanceOf(KubernetesForbiddenError);
      expect(error.message).toContain('Secret list in namespace payments');
      expect(error.message).toContain('Forbidden');
    });

    it.each([500, 503, 429])('answers %i with a retryable KubernetesUnavailableError', async (status) => {
      emulator.faults.inject({ verb: 'get', resource: 'secrets', status, times: 1 });
      const error = await failureOf(clusterFor().readSecret(namespace, 'web-tls'));
      expect(error).toBeInstanceOf(KubernetesUnavailableError);
      expect(error.name).toBe(ErrorNames.KubernetesUnavailable);
      expect(error.message).toContain('Secret payments/web-tls');
      expect(error.details.status).toBe(status);
      expect(isRetryable(error)).toBe(true);
    });

    it('answers a dropped connection with a retryable KubernetesUnavailableError', async () => {
      emulator.faults.inject({ verb: 'get', resource: 'secrets', dropConnection: true, times: 1 });
      const error = await failureOf(clusterFor().readSecret(namespace, 'web-tls'));
      expect(error).toBeInstanceOf(KubernetesUnavailableError);
      expect(isRetryable(error)).toBe(true);
    });

    it('answers an API server slower than the request timeout with a retryable KubernetesUnavailableError', async () => {
      emulator.faults.inject({ verb: 'get', resource: 'secrets', latencyMs: 400, times: 1 });
      const started = Date.now();
      const error = await failureOf(clusterFor({ requestTimeoutMs: 100 }).readSecret(namespace, 'web-tls'));
      expect(error).toBeInstanceOf(KubernetesUnavailableError);
      expect(Date.now() - started).toBeLessThan(350);
    });

    it('answers an unreachable API server with a retryable KubernetesUnavailableError', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const kc = kubeConfigFromOptions({ name: 'gone', server: `http://127.0.0.1:${port}`, token: 't' });
      const error = await failureOf(new KubernetesCluster({ name: 'gone', kubeConfig: () => kc }).readSecret(namespace, 'web-tls'));
      expect(error).toBeInstanceOf(KubernetesUnavailableError);
      expect(error.message).toContain('ECONNREFUSED');
    });

    it('refuses an invalid Secret with KubernetesRequestError whose message carries no Secret data', async () => {
      const secretText = 'BEGIN-PRIVATE-MATERIAL-0123456789';
      const error = await failureOf(
        clusterFor().writeSecret({ namespace, name: 'web-tls', type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(secretText) } }),
      );
      expect(error).toBeInstanceOf(KubernetesRequestError);
      expect(error.message).toContain('Secret payments/web-tls');
      expect(error.message).toContain('data[tls.key]: Required value');
      const everything = `${error.message} ${JSON.stringify(error.details)}`;
      expect(everything).not.toContain(secretText);
      expect(everything).not.toContain(Buffer.from(secretText).toString('base64'));
    });

    it('names the missing namespace when a Secret is written into one that does not exist', async () => {
      const error = await failureOf(clusterFor().writeSecret({ namespace: 'nowhere', name: 'web-tls', type: 'Opaque', data: {} }));
      expect(error).toBeInstanceOf(KubernetesNotFoundError);
      expect(error.message).toContain('Secret nowhere/web-tls');
      expect(error.message).toContain('namespaces "nowhere" not found');
    });
  });

  describe('ConfigMaps', () => {
    it('creates, replaces and reads a trust bundle ConfigMap', async () => {
      const cluster = clusterFor();
      await cluster.writeConfigMap(namespace, 'trust-bundle', { [K8sNames.TrustBundleKey]: 'PEM-1' }, { [K8sNames.ManagedLabel]: 'true' });
      const first = await cluster.readConfigMap(namespace, 'trust-bundle');

      await cluster.writeConfigMap(namespace, 'trust-bundle', { [K8sNames.TrustBundleKey]: 'PEM-1\nPEM-2' });
      const second = await cluster.readConfigMap(namespace, 'trust-bundle');

      expect(first?.data).toEqual({ 'ca.crt': 'PEM-1' });
      expect(second?.data).toEqual({ 'ca.crt': 'PEM-1\nPEM-2' });
      expect(Number(second?.resourceVersion)).toBeGreaterThan(Number(first?.resourceVersion));
      expect(emulator.store.get('configmaps', { namespace, name: 'trust-bundle' })?.metadata.labels).toEqual({ [K8sNames.ManagedLabel]: 'true' });
    });

    it('reads a ConfigMap that does not exist as undefined', async () => {
      await expect(clusterFor().readConfigMap(namespace, 'missing')).resolves.toBeUndefined();
    });

    it('retries a ConfigMap replace answered 409', async () => {
      const cluster = clusterFor();
      await cluster.writeConfigMap(namespace, 'trust-bundle', { 'ca.crt': 'A' });
      emulator.faults.inject({ verb: 'update', resource: 'configmaps', status: 409, times: 2 });
      await cluster.writeConfigMap(namespace, 'trust-bundle', { 'ca.crt': 'B' });
      expect(emulator.store.get('configmaps', { namespace, name: 'trust-bundle' })?.data).toEqual({ 'ca.crt': 'B' });
    });
  });

  describe('Deployments', () => {
    function seedDeployment(name: string, replicas = 2): void {
      emulator.store.create('deployments', {
        metadata: { namespace, name },
        spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } } },
      });
    }

    it('restarts a Deployment: the generation moves, and the rollout completes after the rollout delay', async () => {
      seedDeployment('web');
      const cluster = clusterFor();
      const before = await eventually(() => cluster.rolloutStatus(namespace, 'web'), (status) => status.complete);
      const at = new Date('2030-01-02T03:04:05.000Z');

      const restarted = await cluster.restartDeployment(namespace, 'web', at);
      const done = await eventually(() => cluster.rolloutStatus(namespace, 'web'), (status) => status.complete);

      expect(before).toMatchObject({ generation: 1, observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, complete: true });
      expect(restarted).toMatchObject({ generation: 2, observedGeneration: 1, complete: false, restartedAt: at.toISOString() });
      expect(done).toMatchObject({ generation: 2, observedGeneration: 2, updatedReplicas: 2, readyReplicas: 2, restartedAt: at.toISOString(), complete: true });
      expect(emulator.store.get('deployments', { namespace, name: 'web' })?.spec.template.metadata?.annotations?.[K8sNames.RestartedAtAnnotation]).toBe(at.toISOString());
    });

    it('restarting again with the same time starts no second rollout', async () => {
      seedDeployment('web');
      const cluster = clusterFor();
      const at = new Date('2030-01-02T03:04:05.000Z');
      await cluster.restartDeployment(namespace, 'web', at);
      const again = await cluster.restartDeployment(namespace, 'web', at);
      expect(again.generation).toBe(2);
    });

    it('never reports a paused rollout complete', async () => {
      seedDeployment('web');
      const cluster = clusterFor();
      await eventually(() => cluster.rolloutStatus(namespace, 'web'), (status) => status.complete);
      emulator.setRolloutsPaused(namespace, 'web', true);

      await cluster.restartDeployment(namespace, 'web', fixedNow);
      await sleep(200);
      const status = await cluster.rolloutStatus(namespace, 'web');

      expect(status).toMatchObject({ generation: 2, observedGeneration: 1, complete: false });
    });

    it('counts a rollout incomplete while replicas are not yet updated or ready', async () => {
      seedDeployment('web', 3);
      const cluster = clusterFor();
      await eventually(() => cluster.rolloutStatus(namespace, 'web'), (status) => status.complete);
      emulator.store.mutate('deployments', { namespace, name: 'web' }, (deployment) => {
        deployment.status = { ...deployment.status, readyReplicas: 2 };
      });
      expect((await cluster.rolloutStatus(namespace, 'web')).complete).toBe(false);
      emulator.store.mutate('deployments', { namespace, name: 'web' }, (deployment) => {
        deployment.status = { ...deployment.status, readyReplicas: 3, updatedReplicas: 2, replicas: 4 };
      });
      expect((await cluster.rolloutStatus(namespace, 'web')).complete).toBe(false);
    });

    it('answers a restart of a missing Deployment with KubernetesNotFoundError naming it', async () => {
      const cluster = clusterFor();
      const restart = await failureOf(cluster.restartDeployment(namespace, 'missing', fixedNow));
      const status = await failureOf(cluster.rolloutStatus(namespace, 'missing'));

      expect(restart).toBeInstanceOf(KubernetesNotFoundError);
      expect(restart.name).toBe(ErrorNames.KubernetesNotFound);
      expect(restart.message).toContain('Deployment payments/missing');
      expect(isRetryable(restart)).toBe(false);
      expect(status).toBeInstanceOf(KubernetesNotFoundError);
      expect(status.message).toContain('Deployment payments/missing');
    });
  });

  describe('cert-manager Certificates', () => {
    function seedCertificate(name: string, options: { ns?: string; labels?: Record<string, string>; status?: CertificateObject['status'] } = {}): void {
      emulator.store.create('certificates', {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { namespace: options.ns ?? namespace, name, labels: options.labels ?? {}, annotations: { [K8sNames.ServiceAnnotation]: name } },
        spec: { secretName: `${name}-tls`, issuerRef: { name: 'vault', kind: 'ClusterIssuer' }, dnsNames: [`${name}.payments.svc`, `${name}.example.com`] },
        ...(options.status && { status: options.status }),
      });
    }

    const readyStatus: CertificateObject['status'] = {
      conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired', lastTransitionTime: '2029-12-01T00:00:00Z', observedGeneration: 1 }],
      revision: 3,
      notAfter: '2030-02-01T00:00:00Z',
    };

    it('reads a Certificate with its conditions, revision, notAfter, secretName and dnsNames', async () => {
      seedCertificate('web', { status: readyStatus });
      const certificate = await clusterFor().readCertificate(namespace, 'web');
      expect(certificate).toEqual({
        name: 'web',
        namespace,
        secretName: 'web-tls',
        dnsNames: ['web.payments.svc', 'web.example.com'],
        ready: true,
        issuing: false,
        revision: 3,
        notAfter: '2030-02-01T00:00:00Z',
      });
    });

    it('reads a Certificate without status as not ready, revision 0', async () => {
      seedCertificate('fresh');
      expect(await clusterFor().readCertificate(namespace, 'fresh')).toMatchObject({ ready: false, issuing: false, revision: 0 });
      expect((await clusterFor().readCertificate(namespace, 'fresh'))?.notAfter).toBeUndefined();
    });

    it('reads a Certificate that does not exist as undefined', async () => {
      await expect(clusterFor().readCertificate(namespace, 'missing')).resolves.toBeUndefined();
    });

    it('lists Certificates by label selector in one namespace and across namespaces, with labels and annotations', async () => {
      const managed = { [K8sNames.ManagedLabel]: 'true' };
      seedCertificate('api', { labels: managed, status: readyStatus });
      seedCertificate('web', { labels: managed });
      seedCertificate('other');
      seedCertificate('ledger', { ns: 'billing', labels: managed });
      const cluster = clusterFor({ pageSize: 1 });

      const inNamespace = await cluster.listCertificates(namespace, `${K8sNames.ManagedLabel}=true`);
      const everywhere = await cluster.listCertificates(undefined, `${K8sNames.ManagedLabel}=true`);

      expect(inNamespace.map((c) => c.name)).toEqual(['api', 'web']);
      expect(inNamespace[0]).toMatchObject({ ready: true, revision: 3, labels: managed, annotations: { [K8sNames.ServiceAnnotation]: 'api' } });
      expect(everywhere.map((c) => `${c.namespace}/${c.name}`)).toEqual(['billing/ledger', 'payments/api', 'payments/web']);
    });

    it('requests a renewal as cmctl does: Issuing=True, reason ManuallyTriggered, the Ready condition kept', async () => {
      seedCertificate('web', { status: readyStatus });

      await clusterFor().requestCertificateRenewal(namespace, 'web', 'certflow run r-1: intermediate rotated');

      const stored = emulator.store.get('certificates', { namespace, name: 'web' })!;
      expect(stored.status?.conditions).toEqual([
        readyStatus!.conditions![0],
        {
          type: 'Issuing',
          status: 'True',
          reason: 'ManuallyTriggered',
          message: 'certflow run r-1: intermediate rotated',
          lastTransitionTime: '2030-01-02T03:04:05Z',
          observedGeneration: 1,
        },
      ]);
      expect(stored.status?.revision).toBe(3);
      expect(await clusterFor().readCertificate(namespace, 'web')).toMatchObject({ ready: true, issuing: true });
    });

    it('replaces an Issuing=False condition in place rather than adding a second one', async () => {
      seedCertificate('web', {
        status: {
          ...readyStatus,
          conditions: [
            { type: 'Issuing', status: 'False', reason: 'Failed', message: 'old', lastTransitionTime: '2029-01-01T00:00:00Z' },
            ...readyStatus!.conditions!,
          ],
        },
      });

      await clusterFor().requestCertificateRenewal(namespace, 'web', 'renew');

      const conditions = emulator.store.get('certificates', { namespace, name: 'web' })!.status!.conditions!;
      expect(conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Issuing=True', 'Ready=True']);
      expect(conditions[0]).toMatchObject({ reason: 'ManuallyTriggered', lastTransitionTime: '2030-01-02T03:04:05Z' });
    });

    it('retries the status patch after a 409, from a fresh read', async () => {
      seedCertificate('web', { status: readyStatus });
      emulator.faults.inject({ verb: 'patch', resource: 'certificates/status', status: 409, times: 2 });

      await clusterFor().requestCertificateRenewal(namespace, 'web', 'renew');

      expect(emulator.faults.active()).toEqual([]);
      expect(emulator.store.get('certificates', { namespace, name: 'web' })!.status!.conditions!.map((c) => c.type)).toEqual(['Ready', 'Issuing']);
    });

    it('answers a renewal of a missing Certificate with KubernetesNotFoundError naming it', async () => {
      const error = await failureOf(clusterFor().requestCertificateRenewal(namespace, 'missing', 'renew'));
      expect(error).toBeInstanceOf(KubernetesNotFoundError);
      expect(error.message).toContain('Certificate payments/missing');
    });
  });

  describe('credentials that change', () => {
    it('asks its KubeConfig source before every call and rebuilds clients only when the source hands out a new one', async () => {
      const good = kubeConfigFromOptions({ name: 'sandbox', server: emulator.url, token: emulator.token });
      const bad = kubeConfigFromOptions({ name: 'sandbox', server: emulator.url, token: 'expired' });
      let current = bad;
      let asked = 0;
      const cluster = new KubernetesCluster({
        name: 'sandbox',
        kubeConfig: () => {
          asked += 1;
          return current;
        },
      });

      await expect(cluster.readSecret(namespace, 'x')).rejects.toBeInstanceOf(KubernetesForbiddenError);
      current = good;
      await expect(cluster.readSecret(namespace, 'x')).resolves.toBeUndefined();
      expect(asked).toBe(2);
    });
  });
  it('lists the pods matching a selector with their owner, phase, IP and named ports: Vault nodes discovered from the StatefulSet, impostors refused', async () => {
    const { vaultNodesFromPods } = require('../../functions/domain/vault-pod-nodes') as typeof import('../../functions/domain/vault-pod-nodes');
    const pod = (name: string, owner: string, phase: string, podIP: string | undefined) => ({
      metadata: { name, namespace: 'default', labels: { 'app.kubernetes.io/name': 'vault' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: owner, uid: `uid-${owner}`, controller: true }] },
      spec: { containers: [{ name: 'vault', image: 'hashicorp/vault', ports: [{ name: 'https', containerPort: 8200 }, { name: 'https-internal', containerPort: 8201 }] }] },
      status: { phase, ...(podIP ? { podIP } : {}), conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False' }] },
    });
    emulator.store.create('pods', pod('vault-0', 'vault', 'Running', '10.0.0.10'));
    emulator.store.create('pods', pod('vault-1', 'vault', 'Running', '10.0.0.11'));
    emulator.store.create('pods', pod('vault-2', 'vault', 'Pending', undefined));
    emulator.store.create('pods', pod('impostor-0', 'impostor', 'Running', '10.0.0.66'));
    emulator.store.create('pods', { metadata: { name: 'unlabelled', namespace: 'default' }, spec: { containers: [{ name: 'x', image: 'x' }] } });

    const pods = await clusterFor().listPods('default', 'app.kubernetes.io/name=vault');
    const { nodes, refused } = vaultNodesFromPods(pods, { statefulSet: 'vault', portName: 'https', scheme: 'https' });

    expect(pods.map((entry) => entry.name).sort()).toEqual(['impostor-0', 'vault-0', 'vault-1', 'vault-2']);
    expect(pods.find((entry) => entry.name === 'vault-0')).toEqual({ name: 'vault-0', namespace: 'default', phase: 'Running', ready: true, podIp: '10.0.0.10', ownerStatefulSet: 'vault', ports: [{ name: 'https', port: 8200 }, { name: 'https-internal', port: 8201 }] });
    expect(nodes).toEqual([{ id: 'vault-0', url: 'https://10.0.0.10:8200' }, { id: 'vault-1', url: 'https://10.0.0.11:8200' }]);
    expect(refused).toEqual([{ pod: 'impostor-0', reason: 'NotOwnedByStatefulSet' }, { pod: 'vault-2', reason: 'NotRunning' }]);

    // What UnsealDiscover, UnsealNode and Preflight call: the same nodes, from the functions' environment alone.
    const { vaultNodesSource } = require('../../functions/adapters/vault-node-discovery') as typeof import('../../functions/adapters/vault-node-discovery');
    const { createServingCertificate } = require('../../sandbox/x509/serving-certificate') as typeof import('../../sandbox/x509/serving-certificate');
    const { UnsealEnvSchema } = require('../../functions/contracts/env') as typeof import('../../functions/contracts/env');
    const env = {
      CERTFLOW_VAULT_CLUSTER_ID: 'econgraph',
      CERTFLOW_VAULT_THRESHOLD: '3',
      CERTFLOW_VAULT_SHARES: '5',
      CERTFLOW_UNSEAL_KEY_ID: 'key',
      CERTFLOW_SHARE_TABLE: 'shares',
      // The unseal environment pins Vault's CA; discovery never dials Vault, so any CA PEM will do.
      CERTFLOW_VAULT_CA_PEM: (await createServingCertificate('127.0.0.1', 'vault-ca')).certPem,
      CERTFLOW_VAULT_DISCOVERY: JSON.stringify({ cluster: 'primary', namespace: 'default', labelSelector: 'app.kubernetes.io/name=vault', statefulSet: 'vault' }),
      CERTFLOW_CLUSTERS: JSON.stringify([{ auth: 'token', name: 'primary', server: emulator.url, token: emulator.token }]),
    };
    expect(await vaultNodesSource(UnsealEnvSchema.parse(env), env)()).toEqual(nodes);
  });
});
