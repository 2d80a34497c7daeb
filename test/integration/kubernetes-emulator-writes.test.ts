import { ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { startKubernetesEmulator, type KubernetesEmulatorHandle, type RolloutEvent } from '../../sandbox/kubernetes/kubernetes-emulator';

function clientsFor(emulator: KubernetesEmulatorHandle) {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sandbox', server: emulator.url, skipTLSVerify: true }],
    users: [{ name: 'u', token: emulator.token }],
    contexts: [{ name: 'c', cluster: 'sandbox', user: 'u' }],
    currentContext: 'c',
  });
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

async function failureOf(call: Promise<unknown>): Promise<{ code: number; body: { reason?: string; message: string } }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return { code: error.code, body: typeof error.body === 'string' ? JSON.parse(error.body) : error.body };
  }
  throw new Error('expected the call to fail');
}

const namespace = 'payments';
const restartedAt = 'kubectl.kubernetes.io/restartedAt';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const cert = { group: 'cert-manager.io', version: 'v1', namespace, plural: 'certificates' };

function deployment(name: string): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: { team: 'payments' } },
        spec: {
          containers: [
            { name: 'app', image: 'registry.local/app:1' },
            { name: 'proxy', image: 'registry.local/proxy:1' },
          ],
        },
      },
    },
  };
}

interface CertificateJson {
  metadata: { name: string; generation: number; resourceVersion: string };
  spec: { secretName: string; dnsNames?: string[]; issuerRef: { name: string } };
  status?: { conditions?: { type: string; status: string }[]; revision?: number };
}

/** Resolves with the next rollout event for `deployment` (rejects after `ms`). */
function nextRollout(emulator: KubernetesEmulatorHandle, deploymentName: string, ms = 2000): Promise<RolloutEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no rollout of ${deploymentName} within ${ms} ms`));
    }, ms);
    const stop = emulator.onRollout((event) => {
      if (event.deployment !== deploymentName) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('writes to the Kubernetes emulator', () => {
  let emulator: KubernetesEmulatorHandle;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;

  beforeEach(async () => {
    // Long enough that a read right after a write reliably sees the rollout still pending.
    emulator = await startKubernetesEmulator({ rolloutDelayMs: 150 });
    ({ core, apps, custom } = clientsFor(emulator));
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterEach(async () => {
    await emulator.close();
  });

  it('refuses a Deployment whose selector has an unknown matchExpressions operator with 422, naming the field', async () => {
    const body = deployment('typo');
    body.spec!.selector = { matchLabels: { app: 'typo' }, matchExpressions: [{ key: 'tier', operator: 'Notin', values: ['batch'] }] };

    const { code, body: status } = await failureOf(apps.createNamespacedDeployment({ namespace, body }));

    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toContain('spec.selector.matchExpressions[0].operator: Invalid value: "Notin": not a valid selector operator');
    expect(emulator.store.get('deployments', { namespace, name: 'typo' })).toBeUndefined();
  });

  describe('patches of a Deployment template annotation', () => {
    beforeEach(async () => {
      await apps.createNamespacedDeployment({ namespace, body: deployment('web') });
    });

    it('applies a merge patch, keeping the other annotations and bumping generation', async () => {
      const patched = await apps.patchNamespacedDeployment(
        { name: 'web', namespace, body: { spec: { template: { metadata: { annotations: { [restartedAt]: '2025-01-01T00:00:00Z' } } } } } },
        merge,
      );
      expect(patched.spec?.template.metadata?.annotations).toEqual({ team: 'payments', [restartedAt]: '2025-01-01T00:00:00Z' });
      expect(patched.metadata?.generation).toBe(2);
      expect(patched.spec?.template.spec?.containers).toHaveLength(2);
    });

    it('applies a JSON patch with add, replace, remove and test', async () => {
      const patched = await apps.patchNamespacedDeployment(
        {
          name: 'web',
          namespace,
          body: [
            { op: 'test', path: '/spec/template/metadata/annotations/team', value: 'payments' },
            { op: 'add', path: `/spec/template/metadata/annotations/${restartedAt.replace('/', '~1')}`, value: 'now' },
            { op: 'replace', path: '/spec/replicas', value: 5 },
            { op: 'remove', path: '/spec/template/metadata/annotations/team' },
          ],
        },
        jsonPatch,
      );
      expect(patched.spec?.template.metadata?.annotations).toEqual({ [restartedAt]: 'now' });
      expect(patched.spec?.replicas).toBe(5);
    });

    it('answers 422 to a JSON patch whose test fails, and changes nothing', async () => {
      const before = emulator.store.get('deployments', { namespace, name: 'web' });
      const { code } = await failureOf(
        apps.patchNamespacedDeployment(
          {
            name: 'web',
            namespace,
            body: [
              { op: 'replace', path: '/spec/replicas', value: 9 },
              { op: 'test', path: '/spec/template/metadata/annotations/team', value: 'billing' },
            ],
          },
          jsonPatch,
        ),
      );
      expect(code).toBe(422);
      expect(emulator.store.get('deployments', { namespace, name: 'web' })).toEqual(before);
    });

    it('answers 422 to a JSON patch that adds a __proto__ key, and changes nothing', async () => {
      const before = emulator.store.get('deployments', { namespace, name: 'web' });
      const { code } = await failureOf(
        apps.patchNamespacedDeployment(
          { name: 'web', namespace, body: [{ op: 'add', path: '/spec/template/metadata/annotations/__proto__', value: { team: 'billing' } }] },
          jsonPatch,
        ),
      );
      expect(code).toBe(422);
      expect(emulator.store.get('deployments', { namespace, name: 'web' })).toEqual(before);
    });

    it('answers 400 to a JSON patch with an operation RFC 6902 does not define', async () => {
      const { code } = await failureOf(apps.patchNamespacedDeployment({ name: 'web', namespace, body: [{ op: 'merge', path: '/spec/replicas', value: 2 }] }, jsonPatch));
      expect(code).toBe(400);
    });

    it('deletes a key with null in a merge patch and replaces a list whole', async () => {
      const patched = await apps.patchNamespacedDeployment(
        { name: 'web', namespace, body: { spec: { template: { metadata: { annotations: { team: null, owner: 'sre' } }, spec: { containers: [{ name: 'app', image: 'registry.local/app:2' }] } } } } },
        merge,
      );
      expect(patched.spec?.template.metadata?.annotations).toEqual({ owner: 'sre' });
      expect(patched.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['app=registry.local/app:2']);
    });

    it('applies a strategic merge patch that merges containers by name, where a merge patch replaces the list', async () => {
      const strategicPatched = await apps.patchNamespacedDeployment(
        {
          name: 'web',
          namespace,
          body: { spec: { template: { metadata: { annotations: { [restartedAt]: 'now' } }, spec: { containers: [{ name: 'proxy', image: 'registry.local/proxy:2' }] } } } },
        },
        strategic,
      );
      expect(strategicPatched.spec?.template.metadata?.annotations?.[restartedAt]).toBe('now');
      expect(strategicPatched.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['app=registry.local/app:1', 'proxy=registry.local/proxy:2']);

      const mergePatched = await apps.patchNamespacedDeployment(
        { name: 'web', namespace, body: { spec: { template: { spec: { containers: [{ name: 'proxy', image: 'registry.local/proxy:3' }] } } } } },
        merge,
      );
      expect(mergePatched.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['proxy']);
    });

    it('answers 415 to a patch type it does not know, and 400 to a merge body sent as a JSON patch', async () => {
      const unknown = await failureOf(apps.patchNamespacedDeployment({ name: 'web', namespace, body: {} }, setHeaderOptions('Content-Type', 'text/plain')));
      expect(unknown.code).toBe(415);
      expect(unknown.body.reason).toBe('UnsupportedMediaType');

      // client-node's default patch content type is JSON Patch (TOOLCHAIN.md).
      const wrongShape = await failureOf(apps.patchNamespacedDeployment({ name: 'web', namespace, body: { spec: { replicas: 1 } } }));
      expect(wrongShape.code).toBe(400);
    });

    it('answers 409 to a patch that carries a stale resourceVersion', async () => {
      const { code, body } = await failureOf(apps.patchNamespacedDeployment({ name: 'web', namespace, body: { metadata: { resourceVersion: '1' }, spec: { replicas: 1 } } }, merge));
      expect(code).toBe(409);
      expect(body.reason).toBe('Conflict');
    });

    it('merges a strategic patch into a Secret data map', async () => {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'web-tls' }, stringData: { a: '1', b: '2' } } });
      const patched = await core.patchNamespacedSecret({ name: 'web-tls', namespace, body: { data: { b: null, c: Buffer.from('3').toString('base64') } } }, strategic);
      expect(patched.data).toEqual({ a: Buffer.from('1').toString('base64'), c: Buffer.from('3').toString('base64') });
    });
  });

  describe('the Certificate status subresource', () => {
    beforeEach(async () => {
      await custom.createNamespacedCustomObject({
        ...cert,
        body: {
          apiVersion: 'cert-manager.io/v1',
          kind: 'Certificate',
          metadata: { name: 'web' },
          spec: { secretName: 'web-tls', issuerRef: { name: 'vault' } },
          status: { revision: 7 },
        },
      });
    });

    it('drops status on create and ignores status in writes to the main resource', async () => {
      const created = (await custom.getNamespacedCustomObject({ ...cert, name: 'web' })) as CertificateJson;
      expect(created.status).toBeUndefined();

      const patched = (await custom.patchNamespacedCustomObject(
        { ...cert, name: 'web', body: { spec: { dnsNames: ['web.example.com'] }, status: { revision: 1 } } },
        merge,
      )) as CertificateJson;
      expect(patched.spec.dnsNames).toEqual(['web.example.com']);
      expect(patched.status).toBeUndefined();
      expect(patched.metadata.generation).toBe(2);
    });

    it('changes only status through /status, without bumping generation', async () => {
      const patched = (await custom.patchNamespacedCustomObjectStatus(
        { ...cert, name: 'web', body: { spec: { secretName: 'hijacked' }, status: { revision: 1, conditions: [{ type: 'Ready', status: 'True' }] } } },
        merge,
      )) as CertificateJson;
      expect(patched.status).toEqual({ revision: 1, conditions: [{ type: 'Ready', status: 'True' }] });
      expect(patched.spec.secretName).toBe('web-tls');
      expect(patched.metadata.generation).toBe(1);

      const current = (await custom.getNamespacedCustomObjectStatus({ ...cert, name: 'web' })) as CertificateJson;
      const replaced = (await custom.replaceNamespacedCustomObjectStatus({
        ...cert,
        name: 'web',
        body: { ...current, status: { revision: 2 } },
      })) as CertificateJson;
      expect(replaced.status).toEqual({ revision: 2 });
      expect(emulator.store.get('certificates', { namespace, name: 'web' })?.status?.revision).toBe(2);
    });

    it('refuses a strategic merge patch on a Certificate with 415, as for every custom resource', async () => {
      const { code, body } = await failureOf(custom.patchNamespacedCustomObject({ ...cert, name: 'web', body: { spec: { dnsNames: ['x'] } } }, strategic));
      expect(code).toBe(415);
      expect(body.message).toContain('accepted media types include: application/json-patch+json, application/merge-patch+json');
    });
  });

  describe('rollouts', () => {
    it('rolls out a template change: generation bumps, observedGeneration catches up after the delay, onRollout fires', async () => {
      const firstRollout = nextRollout(emulator, 'web');
      await apps.createNamespacedDeployment({ namespace, body: deployment('web') });
      expect((await firstRollout).generation).toBe(1);

      const rollout = nextRollout(emulator, 'web');
      const patched = await apps.patchNamespacedDeployment(
        { name: 'web', namespace, body: { spec: { template: { metadata: { annotations: { [restartedAt]: '2025-06-01T12:00:00Z' } } } } } },
        strategic,
      );
      expect(patched.metadata?.generation).toBe(2);
      const behind = await apps.readNamespacedDeployment({ name: 'web', namespace });
      expect(behind.status?.observedGeneration).toBe(1);

      const event = await rollout;
      expect(event).toEqual({ namespace, deployment: 'web', generation: 2, restartedAt: '2025-06-01T12:00:00Z' });
      const after = await apps.readNamespacedDeployment({ name: 'web', namespace });
      expect(after.status).toMatchObject({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    });

    it('ignores status written to the main resource of a Deployment', async () => {
      emulator.setRolloutsPaused(namespace, 'web', true);
      await apps.createNamespacedDeployment({ namespace, body: { ...deployment('web'), status: { observedGeneration: 99, readyReplicas: 3 } } });
      const created = await apps.readNamespacedDeployment({ name: 'web', namespace });
      expect(created.status?.observedGeneration).toBeUndefined();
    });

    it('never completes a paused rollout, and completes it once resumed', async () => {
      await apps.createNamespacedDeployment({ namespace, body: deployment('web') });
      await nextRollout(emulator, 'web');
      emulator.setRolloutsPaused(namespace, 'web', true);
      const events: RolloutEvent[] = [];
      emulator.onRollout((event) => events.push(event));

      await apps.patchNamespacedDeployment({ name: 'web', namespace, body: { spec: { template: { metadata: { annotations: { [restartedAt]: 'now' } } } } } }, merge);
      await sleep(450);
      const stuck = await apps.readNamespacedDeployment({ name: 'web', namespace });
      expect(stuck.metadata?.generation).toBe(2);
      expect(stuck.status?.observedGeneration).toBe(1);
      expect(events).toEqual([]);

      const resumed = nextRollout(emulator, 'web');
      emulator.setRolloutsPaused(namespace, 'web', false);
      expect((await resumed).generation).toBe(2);
    });

    it('catches status up on a scale without announcing a rollout', async () => {
      await apps.createNamespacedDeployment({ namespace, body: deployment('web') });
      await nextRollout(emulator, 'web');
      const events: RolloutEvent[] = [];
      emulator.onRollout((event) => events.push(event));

      await apps.patchNamespacedDeployment({ name: 'web', namespace, body: { spec: { replicas: 1 } } }, merge);
      await sleep(450);
      const scaled = await apps.readNamespacedDeployment({ name: 'web', namespace });
      expect(scaled.status).toMatchObject({ observedGeneration: 2, replicas: 1, readyReplicas: 1 });
      expect(events).toEqual([]);
    });
  });

  describe('the store handle', () => {
    it('seeds objects that the API then serves, and sees writes made through the API', async () => {
      emulator.store.create('secrets', { metadata: { name: 'seeded', namespace }, stringData: { k: 'v' } });
      const read = await core.readNamespacedSecret({ name: 'seeded', namespace });
      expect(read.data).toEqual({ k: Buffer.from('v').toString('base64') });

      const changes: string[] = [];
      emulator.store.onChange((change) => changes.push(`${change.type} ${change.resource}/${change.object.metadata.name}`));
      await core.deleteNamespacedSecret({ name: 'seeded', namespace });
      expect(changes).toEqual(['DELETED secrets/seeded']);
    });

    it('lets a controller write Certificate status directly with mutate', async () => {
      emulator.store.create('certificates', { metadata: { name: 'web', namespace }, spec: { secretName: 'web-tls', issuerRef: { name: 'vault' } } });
      emulator.store.mutate('certificates', { namespace, name: 'web' }, (certificate) => {
        certificate.status = { conditions: [{ type: 'Ready', status: 'True' }] };
      });
      const read = (await custom.getNamespacedCustomObject({ ...cert, name: 'web' })) as CertificateJson;
      expect(read.status?.conditions).toEqual([{ type: 'Ready', status: 'True' }]);
      expect(read.metadata.generation).toBe(1);
    });

    it('refuses an invalid object with the same error the API answers', () => {
      expect(() => emulator.store.create('secrets', { metadata: { name: 'Bad_Name', namespace } })).toThrow(/Secret "Bad_Name" is invalid/);
    });
  });
});
