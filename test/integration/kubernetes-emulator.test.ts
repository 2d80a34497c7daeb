import { ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { startKubernetesEmulator, type KubernetesEmulatorHandle } from '../../sandbox/kubernetes/kubernetes-emulator';

/** The real @kubernetes/client-node 2.x against the emulator, as the certflow adapter builds it (TOOLCHAIN.md). */
function clientsFor(emulator: KubernetesEmulatorHandle, token = emulator.token) {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sandbox', server: emulator.url, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'c', cluster: 'sandbox', user: 'u' }],
    currentContext: 'c',
  });
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

interface StatusBody {
  kind: string;
  apiVersion: string;
  status: string;
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason: string; field: string; message: string }[] };
  code: number;
}

/** The ApiException of a call that must fail, with its body parsed (client-node keeps it as a JSON string). */
async function failureOf(call: Promise<unknown>): Promise<{ code: number; body: StatusBody }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body = typeof error.body === 'string' ? (JSON.parse(error.body) as StatusBody) : (error.body as StatusBody);
    return { code: error.code, body };
  }
  throw new Error('expected the call to fail');
}

const namespace = 'payments';
const cert = { group: 'cert-manager.io', version: 'v1', namespace, plural: 'certificates' };

function deployment(name: string, labels: Record<string, string> = { app: name }): V1Deployment {
  return {
    metadata: { name, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: labels.app ?? name } },
      template: { metadata: { labels: { app: labels.app ?? name } }, spec: { containers: [{ name: 'app', image: 'registry.local/app:1' }] } },
    },
  };
}

function certificate(name: string, secretName = `${name}-tls`) {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name, labels: { team: 'payments' } },
    spec: { secretName, issuerRef: { name: 'vault-issuer', kind: 'ClusterIssuer' }, dnsNames: [`${name}.payments.svc`] },
  };
}

describe('the Kubernetes emulator', () => {
  let emulator: KubernetesEmulatorHandle;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;

  beforeEach(async () => {
    emulator = await startKubernetesEmulator({ rolloutDelayMs: 10 });
    ({ core, apps, custom } = clientsFor(emulator));
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterEach(async () => {
    await emulator.close();
  });

  describe('CRUD of each kind', () => {
    it('creates, reads, replaces and deletes a TLS Secret, folding stringData into base64 data', async () => {
      const created = await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'web-tls', labels: { app: 'web' } }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'CERT', 'tls.key': 'KEY' } },
      });
      expect(created.data).toEqual({ 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') });
      expect(created.stringData).toBeUndefined();
      expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.metadata?.namespace).toBe(namespace);
      expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);

      const read = await core.readNamespacedSecret({ name: 'web-tls', namespace });
      expect(read.type).toBe('kubernetes.io/tls');
      expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);

      const replaced = await core.replaceNamespacedSecret({
        name: 'web-tls',
        namespace,
        body: { ...read, data: { ...read.data, 'tls.crt': Buffer.from('NEW').toString('base64') } },
      });
      expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(read.metadata?.resourceVersion));
      expect(replaced.metadata?.uid).toBe(created.metadata?.uid);
      expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })?.data?.['tls.crt']).toBe(Buffer.from('NEW').toString('base64'));

      const deleted = await core.deleteNamespacedSecret({ name: 'web-tls', namespace });
      expect(deleted.status).toBe('Success');
      expect(deleted.details?.name).toBe('web-tls');
      expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })).toBeUndefined();
    });

    it('serves ConfigMaps and Pods, and a deleted Pod is answered with the Pod', async () => {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'trust-bundle' }, data: { 'ca.crt': 'PEM' } } });
      const configMaps = await core.listNamespacedConfigMap({ namespace });
      expect(configMaps.items.map((item) => item.metadata?.name)).toEqual(['trust-bundle']);

      const pod = await core.createNamespacedPod({
        namespace,
        body: { metadata: { name: 'vault-0', labels: { app: 'vault' } }, spec: { containers: [{ name: 'vault', image: 'vault:1.17' }] }, status: { phase: 'Running' } },
      });
      // Status is the kubelet's: a created Pod is Pending whatever the client sent.
      expect(pod.status?.phase).toBe('Pending');
      const deleted = await core.deleteNamespacedPod({ name: 'vault-0', namespace });
      expect(deleted.metadata?.name).toBe('vault-0');
      expect(emulator.store.get('pods', { namespace, name: 'vault-0' })).toBeUndefined();
    });

    it('creates a Deployment with defaults and generation 1 and deletes it', async () => {
      const created = await apps.createNamespacedDeployment({ namespace, body: { ...deployment('web'), spec: { ...deployment('web').spec!, replicas: undefined } } });
      expect(created.metadata?.generation).toBe(1);
      expect(created.spec?.replicas).toBe(1);
      expect(created.spec?.strategy?.type).toBe('RollingUpdate');
      expect(created.status?.observedGeneration).toBeUndefined();

      const deleted = await apps.deleteNamespacedDeployment({ name: 'web', namespace });
      expect(deleted.details).toMatchObject({ name: 'web', group: 'apps', kind: 'deployments' });
    });

    it('creates, reads, lists, replaces and deletes a cert-manager Certificate', async () => {
      const created = (await custom.createNamespacedCustomObject({ ...cert, body: certificate('web') })) as { metadata: { generation: number; resourceVersion: string } };
      expect(created.metadata.generation).toBe(1);

      const read = (await custom.getNamespacedCustomObject({ ...cert, name: 'web' })) as ReturnType<typeof certificate> & { metadata: { resourceVersion: string } };
      expect(read.spec.secretName).toBe('web-tls');

      const listed = (await custom.listNamespacedCustomObject({ ...cert, labelSelector: 'team=payments' })) as { kind: string; items: { kind: string }[] };
      expect(listed.kind).toBe('CertificateList');
      // Unstructured lists keep each item's kind, unlike typed lists of built-in kinds.
      expect(listed.items.map((item) => item.kind)).toEqual(['Certificate']);

      const replaced = (await custom.replaceNamespacedCustomObject({
        ...cert,
        name: 'web',
        body: { ...read, spec: { ...read.spec, dnsNames: ['web.example.com'] } },
      })) as { metadata: { generation: number } };
      expect(replaced.metadata.generation).toBe(2);

      await custom.deleteNamespacedCustomObject({ ...cert, name: 'web' });
      expect(emulator.store.get('certificates', { namespace, name: 'web' })).toBeUndefined();
    });

    it('refuses to replace a Certificate without a resourceVersion, as for every custom resource', async () => {
      await custom.createNamespacedCustomObject({ ...cert, body: certificate('web') });
      const { code, body } = await failureOf(custom.replaceNamespacedCustomObject({ ...cert, name: 'web', body: certificate('web') }));
      expect(code).toBe(422);
      expect(body.message).toContain('metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    });

    it('lists every namespace through the cluster-wide paths', async () => {
      await core.createNamespace({ body: { metadata: { name: 'billing' } } });
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'a' }, stringData: { k: 'v' } } });
      await core.createNamespacedSecret({ namespace: 'billing', body: { metadata: { name: 'b' }, stringData: { k: 'v' } } });
      await apps.createNamespacedDeployment({ namespace: 'billing', body: deployment('ledger') });

      const secrets = await core.listSecretForAllNamespaces();
      expect(secrets.items.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`)).toEqual(['billing/b', 'payments/a']);
      const deployments = await apps.listDeploymentForAllNamespaces();
      expect(deployments.items.map((item) => item.metadata?.name)).toEqual(['ledger']);
      const namespaces = await core.listNamespace({ labelSelector: 'kubernetes.io/metadata.name in (billing,payments)' });
      expect(namespaces.items.map((item) => item.metadata?.name)).toEqual(['billing', 'payments']);
    });

    it('deleting a namespace deletes everything in it', async () => {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'a' } } });
      await core.deleteNamespace({ name: namespace });
      expect(emulator.store.list('secrets', { namespace })).toEqual([]);
      expect((await failureOf(core.readNamespace({ name: namespace }))).code).toBe(404);
    });
  });

  describe('over HTTPS', () => {
    it('serves a kubeconfig that client-node loads and trusts without skipping verification', async () => {
      const secure = await startKubernetesEmulator({ tls: true });
      try {
        expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const kc = new KubeConfig();
        kc.loadFromString(secure.kubeconfig());
        expect(kc.getCurrentCluster()?.skipTLSVerify).toBeFalsy();
        const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
        expect(namespaces.items.map((item) => item.metadata?.name)).toEqual(['default', 'kube-system']);
      } finally {
        await secure.close();
      }
    });
  });

  describe('metadata', () => {
    it('bumps the global resourceVersion on every write but not on a write that changes nothing', async () => {
      const first = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'a' }, data: { k: '1' } } });
      const second = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'b' } } });
      expect(Number(second.metadata?.resourceVersion)).toBe(Number(first.metadata?.resourceVersion) + 1);

      const unchanged = await core.replaceNamespacedConfigMap({ name: 'a', namespace, body: first });
      expect(unchanged.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
      const list = await core.listNamespacedConfigMap({ namespace });
      expect(list.metadata?.resourceVersion).toBe(emulator.store.resourceVersion());
    });

    it('names an object from generateName', async () => {
      const created = await core.createNamespacedSecret({ namespace, body: { metadata: { generateName: 'backup-' } } });
      expect(created.metadata?.name).toMatch(/^backup-[a-z0-9]{5}$/);
    });
  });

  describe('errors as Status objects', () => {
    it('answers 401 Unauthorized without the bearer token or with a wrong one', async () => {
      const withWrongToken = clientsFor(emulator, 'not-the-token');
      const { code } = await failureOf(withWrongToken.core.listNamespacedSecret({ namespace }));
      expect(code).toBe(401);

      const response = await fetch(`${emulator.url}/api/v1/namespaces/${namespace}/secrets`);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
      // Anonymous clients may still read the version, as with system:public-info-viewer.
      expect((await fetch(`${emulator.url}/version`)).status).toBe(200);
    });

    it('answers 404 NotFound naming the resource and its group', async () => {
      const secret = await failureOf(core.readNamespacedSecret({ name: 'missing', namespace }));
      expect(secret.code).toBe(404);
      expect(secret.body).toMatchObject({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        message: 'secrets "missing" not found',
        details: { name: 'missing', kind: 'secrets' },
        code: 404,
      });
      const certificateMissing = await failureOf(custom.getNamespacedCustomObject({ ...cert, name: 'missing' }));
      expect(certificateMissing.body.message).toBe('certificates.cert-manager.io "missing" not found');
      expect(certificateMissing.body.details).toEqual({ name: 'missing', group: 'cert-manager.io', kind: 'certificates' });
    });

    it('answers 404 for an object created in a namespace that does not exist', async () => {
      const { code, body } = await failureOf(core.createNamespacedSecret({ namespace: 'nowhere', body: { metadata: { name: 'a' } } }));
      expect(code).toBe(404);
      expect(body.message).toBe('namespaces "nowhere" not found');
    });

    it('answers 409 AlreadyExists when the name is taken', async () => {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'a' } } });
      const { code, body } = await failureOf(core.createNamespacedSecret({ namespace, body: { metadata: { name: 'a' } } }));
      expect(code).toBe(409);
      expect(body).toMatchObject({ reason: 'AlreadyExists', message: 'secrets "a" already exists', details: { name: 'a', kind: 'secrets' } });
    });

    it('answers 422 Invalid for a missing name, an invalid name and a TLS Secret without its key', async () => {
      const missing = await failureOf(core.createNamespacedSecret({ namespace, body: { metadata: {} } }));
      expect(missing.code).toBe(422);
      expect(missing.body).toMatchObject({ reason: 'Invalid', details: { kind: 'Secret', causes: [{ reason: 'FieldValueRequired', field: 'metadata.name' }] } });
      expect(missing.body.message).toBe('Secret "" is invalid: metadata.name: Required value: name or generateName is required');

      const badName = await failureOf(core.createNamespacedSecret({ namespace, body: { metadata: { name: 'Web_TLS' } } }));
      expect(badName.code).toBe(422);
      expect(badName.body.message).toMatch(/^Secret "Web_TLS" is invalid: metadata.name: Invalid value: "Web_TLS": a lowercase RFC 1123 subdomain/);

      const tls = await failureOf(
        core.createNamespacedSecret({ namespace, body: { metadata: { name: 'web-tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'CERT' } } }),
      );
      expect(tls.code).toBe(422);
      expect(tls.body.message).toBe('Secret "web-tls" is invalid: data[tls.key]: Required value');
    });

    it('answers 422 for a Deployment whose selector does not match its template and for a Certificate without secretName', async () => {
      const mismatched = deployment('web');
      mismatched.spec!.template.metadata!.labels = { app: 'other' };
      const { code, body } = await failureOf(apps.createNamespacedDeployment({ namespace, body: mismatched }));
      expect(code).toBe(422);
      expect(body.message).toContain('Deployment.apps "web" is invalid: spec.template.metadata.labels');
      expect(body.details).toMatchObject({ name: 'web', group: 'apps', kind: 'Deployment' });

      const noSecret = certificate('web');
      delete (noSecret.spec as { secretName?: string }).secretName;
      const certificateFailure = await failureOf(custom.createNamespacedCustomObject({ ...cert, body: noSecret }));
      expect(certificateFailure.code).toBe(422);
      expect(certificateFailure.body.message).toBe('Certificate.cert-manager.io "web" is invalid: spec.secretName: Required value');
    });

    it('answers 400 for data that is not base64', async () => {
      const { code, body } = await failureOf(core.createNamespacedSecret({ namespace, body: { metadata: { name: 'a' }, data: { k: 'not base64!' } } }));
      expect(code).toBe(400);
      expect(body.message).toMatch(/illegal base64 data at input byte 3/);
    });
  });

  describe('optimistic concurrency', () => {
    it('answers 409 Conflict to a replace with a stale resourceVersion', async () => {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'web-tls' }, stringData: { v: '1' } } });
      const mine = await core.readNamespacedSecret({ name: 'web-tls', namespace });
      const theirs = await core.readNamespacedSecret({ name: 'web-tls', namespace });
      await core.replaceNamespacedSecret({ name: 'web-tls', namespace, body: { ...theirs, stringData: { v: 'theirs' } } });

      const { code, body } = await failureOf(core.replaceNamespacedSecret({ name: 'web-tls', namespace, body: { ...mine, stringData: { v: 'mine' } } }));
      expect(code).toBe(409);
      expect(body).toMatchObject({
        reason: 'Conflict',
        message: 'Operation cannot be fulfilled on secrets "web-tls": the object has been modified; please apply your changes to the latest version and try again',
        details: { name: 'web-tls', kind: 'secrets' },
      });
      expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })?.data?.v).toBe(Buffer.from('theirs').toString('base64'));
    });

    it('resolves a burst of injected 409s with a loop that re-reads and retries', async () => {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'web-tls' }, stringData: { v: '1' } } });
      emulator.faults.inject({ verb: 'update', resource: 'secrets', namespace, name: 'web-tls', status: 409, times: 3 });

      let attempts = 0;
      for (;;) {
        attempts += 1;
        const current = await core.readNamespacedSecret({ name: 'web-tls', namespace });
        try {
          await core.replaceNamespacedSecret({ name: 'web-tls', namespace, body: { ...current, stringData: { v: '2' } } });
          break;
        } catch (error) {
          if (!(error instanceof ApiException) || error.code !== 409 || attempts >= 10) throw error;
        }
      }

      expect(attempts).toBe(4);
      expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })?.data?.v).toBe(Buffer.from('2').toString('base64'));
    });
  });

  describe('label and field selection', () => {
    beforeEach(async () => {
      const seeds: [string, Record<string, string>][] = [
        ['api', { app: 'api', tier: 'backend', canary: 'true' }],
        ['web', { app: 'web', tier: 'frontend' }],
        ['db', { app: 'db', tier: 'backend' }],
        ['plain', {}],
      ];
      for (const [name, labels] of seeds) await core.createNamespacedSecret({ namespace, body: { metadata: { name, labels } } });
    });

    it.each([
      ['tier=backend', ['api', 'db']],
      ['tier==frontend', ['web']],
      ['tier!=backend', ['plain', 'web']],
      ['app in (api,web)', ['api', 'web']],
      ['app notin (api,web)', ['db', 'plain']],
      ['canary', ['api']],
      ['!canary', ['db', 'plain', 'web']],
      ['tier=backend,!canary', ['db']],
      ['', ['api', 'db', 'plain', 'web']],
    ])('selects %j', async (labelSelector, expected) => {
      const list = await core.listNamespacedSecret({ namespace, labelSelector });
      expect(list.items.map((item) => item.metadata?.name)).toEqual(expected);
    });

    it('selects by metadata.name with a field selector', async () => {
      const list = await core.listNamespacedSecret({ namespace, fieldSelector: 'metadata.name=web' });
      expect(list.items.map((item) => item.metadata?.name)).toEqual(['web']);
    });

    it('rejects a malformed label selector with 400 BadRequest', async () => {
      const { code, body } = await failureOf(core.listNamespacedSecret({ namespace, labelSelector: 'app in (api' }));
      expect(code).toBe(400);
      expect(body.reason).toBe('BadRequest');
      expect(body.message).toMatch(/^unable to parse requirement/);
    });

    it('pages a list with limit and continue', async () => {
      const first = await core.listNamespacedSecret({ namespace, limit: 3 });
      expect(first.items.map((item) => item.metadata?.name)).toEqual(['api', 'db', 'plain']);
      expect(first.metadata?.remainingItemCount).toBe(1);
      const second = await core.listNamespacedSecret({ namespace, limit: 3, _continue: first.metadata?._continue });
      expect(second.items.map((item) => item.metadata?.name)).toEqual(['web']);
      expect(second.metadata?._continue).toBeUndefined();
    });
  });

  describe('faults', () => {
    beforeEach(async () => {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'web-tls' } } });
    });

    it('fails the matching verb with the injected status the given number of times', async () => {
      emulator.faults.inject({ verb: 'get', resource: 'secrets', status: 503, times: 2 });

      const first = await failureOf(core.readNamespacedSecret({ name: 'web-tls', namespace }));
      expect(first.code).toBe(503);
      expect(first.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable' });
      expect((await failureOf(core.readNamespacedSecret({ name: 'web-tls', namespace }))).code).toBe(503);
      // Other verbs were never affected, and after two uses the fault is gone.
      await expect(core.listNamespacedSecret({ namespace })).resolves.toBeDefined();
      await expect(core.readNamespacedSecret({ name: 'web-tls', namespace })).resolves.toBeDefined();
      expect(emulator.faults.active()).toEqual([]);
    });

    it('matches only the namespace and name it names, with its own message', async () => {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'other' } } });
      emulator.faults.inject({ resource: 'secrets', namespace, name: 'web-tls', status: 403, message: 'denied by policy' });

      const { code, body } = await failureOf(core.readNamespacedSecret({ name: 'web-tls', namespace }));
      expect(code).toBe(403);
      expect(body).toMatchObject({ reason: 'Forbidden', message: 'denied by policy' });
      await expect(core.readNamespacedSecret({ name: 'other', namespace })).resolves.toBeDefined();
    });

    it('delays a request by latencyMs and can be cleared', async () => {
      const id = emulator.faults.inject({ verb: 'list', latencyMs: 150 });
      const started = Date.now();
      await core.listNamespacedSecret({ namespace });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);

      emulator.faults.clear(id);
      const again = Date.now();
      await core.listNamespacedSecret({ namespace });
      expect(Date.now() - again).toBeLessThan(140);
    });

    it('fails a write with 500 and leaves the object unchanged', async () => {
      emulator.faults.inject({ verb: '*', resource: 'secrets', status: 500, times: 1 });
      const before = emulator.store.get('secrets', { namespace, name: 'web-tls' });
      const { code, body } = await failureOf(core.deleteNamespacedSecret({ name: 'web-tls', namespace }));
      expect(code).toBe(500);
      expect(body.reason).toBe('InternalError');
      expect(emulator.store.get('secrets', { namespace, name: 'web-tls' })).toEqual(before);
    });

    it('drops the connection when told to', async () => {
      emulator.faults.inject({ verb: 'get', dropConnection: true, times: 1 });
      const error = await core.readNamespacedSecret({ name: 'web-tls', namespace }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      expect(error).not.toBeInstanceOf(ApiException);
    });

    it('faults the Certificate status subresource alone when told to', async () => {
      await custom.createNamespacedCustomObject({ ...cert, body: certificate('web') });
      emulator.faults.inject({ verb: 'patch', resource: 'certificates/status', status: 500 });
      const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

      const statusPatch = await failureOf(custom.patchNamespacedCustomObjectStatus({ ...cert, name: 'web', body: { status: { revision: 1 } } }, merge));
      expect(statusPatch.code).toBe(500);
      await expect(custom.patchNamespacedCustomObject({ ...cert, name: 'web', body: { spec: { dnsNames: ['x.example'] } } }, merge)).resolves.toBeDefined();
    });

    it('refuses a fault that would do nothing', () => {
      expect(() => emulator.faults.inject({ verb: 'get' })).toThrow(RangeError);
      expect(() => emulator.faults.inject({ status: 200 })).toThrow(RangeError);
    });
  });
});
