import { createHash, createHmac } from 'node:crypto';
import { cachedEksToken, clusterFromSpec, eksKubeConfigSource, eksToken, type EksTokenOptions } from '../../functions/adapters/kubernetes/kube-auth';
import { ClusterSpecSchema, type ClusterSpec } from '../../functions/contracts/clusters';
import { ConfigError, KubernetesForbiddenError } from '../../functions/contracts/errors';
import type { Clock } from '../../functions/ports/clock';
import { startKubernetesEmulator, type KubernetesEmulatorHandle } from '../../sandbox/kubernetes/kubernetes-emulator';
import { startSecretsManagerEmulator, type SecretsManagerEmulatorHandle } from '../../sandbox/secrets-manager/secrets-manager-emulator';

const credentials = { accessKeyId: 'AKIDCERTFLOWTEST', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+with=chars' };

/** A clock the test moves by hand. */
function movableClock(start: string): Clock & { advance(ms: number): void } {
  let now = new Date(start).getTime();
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

function decode(token: string): URL {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const encoded = token.slice('k8s-aws-v1.'.length);
  // base64url without padding, as aws-iam-authenticator expects.
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

const rfc3986 = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The signature STS computes for a presigned GET, written out from the SigV4 specification so the
 * test does not trust the signer it checks: canonical request, string to sign, derived key.
 */
function expectedSignature(url: URL, headers: Record<string, string>, secretAccessKey: string): string {
  const params = [...url.searchParams.entries()].filter(([key]) => key !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const signedHeaders = url.searchParams.get('X-Amz-SignedHeaders')!.split(';');
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headers[name]}\n`).join('');
  const emptyPayload = createHash('sha256').update('').digest('hex');
  const canonicalRequest = ['GET', url.pathname, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), emptyPayload].join('\n');
  const [, date, region, service] = url.searchParams.get('X-Amz-Credential')!.split('/');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', url.searchParams.get('X-Amz-Date'), scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date!), region!), service!), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('EKS bearer tokens', () => {
  const options = (clock: Clock): EksTokenOptions => ({ clusterName: 'prod-eu', region: 'eu-west-1', credentials: async () => credentials, clock });

  it('is a presigned sts:GetCallerIdentity URL in the cluster region, valid 60 s, with x-k8s-aws-id signed', async () => {
    const clock = movableClock('2030-01-02T03:04:05.678Z');

    const url = decode(await eksToken(options(clock)));

    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual(['host', 'x-k8s-aws-id']);
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDCERTFLOWTEST/20300102/eu-west-1/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20300102T030405Z');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(credentials.sessionToken);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('carries a signature STS would accept for the host and the cluster name', async () => {
    const url = decode(await eksToken(options(movableClock('2030-01-02T03:04:05Z'))));

    const forThisCluster = expectedSignature(url, { host: 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id': 'prod-eu' }, credentials.secretAccessKey);
    const forAnotherCluster = expectedSignature(url, { host: 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id': 'other' }, credentials.secretAccessKey);

    expect(url.searchParams.get('X-Amz-Signature')).toBe(forThisCluster);
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(forAnotherCluster);
  });

  it('is cached for ten minutes of the injected clock and replaced after', async () => {
    const clock = movableClock('2030-01-02T03:04:05Z');
    const token = cachedEksToken(options(clock));

    const first = await token();
    clock.advance(9 * 60_000 + 59_000);
    const withinTenMinutes = await token();
    clock.advance(2_000);
    const afterTenMinutes = await token();

    expect(withinTenMinutes).toBe(first);
    expect(afterTenMinutes).not.toBe(first);
    expect(decode(afterTenMinutes).searchParams.get('X-Amz-Date')).toBe('20300102T031406Z');
  });

  it('gives the same KubeConfig until the token is due, then a new one carrying the new token', async () => {
    const clock = movableClock('2030-01-02T03:04:05Z');
    const source = eksKubeConfigSource({ clusterName: 'prod-eu', endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', caData: 'Q0E=', region: 'eu-west-1', credentials: async () => credentials, clock });

    const first = await source();
    clock.advance(5 * 60_000);
    const same = await source();
    clock.advance(5 * 60_000);
    const renewed = await source();

    expect(same).toBe(first);
    expect(renewed).not.toBe(first);
    expect(first.getCurrentCluster()).toMatchObject({ server: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', caData: 'Q0E=', skipTLSVerify: false });
    expect(first.getCurrentUser()?.token).toMatch(/^k8s-aws-v1\./);
    expect(renewed.getCurrentUser()?.token).not.toBe(first.getCurrentUser()?.token);
  });
});

describe('clusterFromSpec against the emulators', () => {
  let kubernetes: KubernetesEmulatorHandle;
  let secretsManager: SecretsManagerEmulatorHandle;
  let env: Record<string, string>;
  const namespace = 'default';

  beforeAll(async () => {
    kubernetes = await startKubernetesEmulator({ tls: true });
    secretsManager = await startSecretsManagerEmulator();
    env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    };
  });

  afterAll(async () => {
    await kubernetes.close();
    await secretsManager.close();
  });

  async function roundTrip(spec: ClusterSpec, name: string): Promise<void> {
    const cluster = clusterFromSpec(ClusterSpecSchema.parse(spec), { env });
    await cluster.writeSecret({ namespace, name, type: 'Opaque', data: { v: Buffer.from(name) } });
    const read = await cluster.readSecret(namespace, name);
    expect(cluster.name).toBe(spec.name);
    expect(read?.data.v?.toString()).toBe(name);
  }

  it('reaches a cluster through a kubeconfig stored in Secrets Manager, verifying its CA, and reads the secret once', async () => {
    const secretArn = secretsManager.putSecret('certflow/kubeconfig/sandbox', kubernetes.kubeconfig());
    const before = secretsManager.calls().filter((call) => call.operation === 'GetSecretValue').length;

    await roundTrip({ auth: 'kubeconfig-secret', name: 'sandbox', secretArn }, 'from-kubeconfig-secret');

    const reads = secretsManager.calls().filter((call) => call.operation === 'GetSecretValue').length - before;
    expect(reads).toBe(1);
  });

  it('reaches a cluster with a token kept in Secrets Manager and a CA given in config', async () => {
    const tokenSecretArn = secretsManager.putSecret('certflow/token/sandbox', `${kubernetes.token}\n`);
    await roundTrip(
      { auth: 'token', name: 'sandbox', server: kubernetes.url, tokenSecretArn, caData: Buffer.from(kubernetes.caCertificate!).toString('base64'), skipTlsVerify: false },
      'from-token-secret',
    );
  });

  it('reaches a plain-HTTP sandbox cluster with an inline token', async () => {
    const plain = await startKubernetesEmulator();
    try {
      const cluster = clusterFromSpec(ClusterSpecSchema.parse({ auth: 'token', name: 'local', server: plain.url, token: plain.token }), { env: {} });
      await cluster.writeConfigMap('default', 'trust-bundle', { 'ca.crt': 'PEM' });
      expect(plain.store.get('configmaps', { namespace: 'default', name: 'trust-bundle' })?.data).toEqual({ 'ca.crt': 'PEM' });
    } finally {
      await plain.close();
    }
  });

  it('reaches an EKS-style cluster with the presigned STS token as its bearer token', async () => {
    // Signing is deterministic for a fixed clock and key, so the emulator can be told the token to expect.
    const clock = movableClock('2030-01-02T03:04:05Z');
    const expected = await eksToken({ clusterName: 'prod-eu', region: 'eu-west-1', credentials: async () => credentials, clock });
    const eks = await startKubernetesEmulator({ tls: true, token: expected });
    try {
      const spec = ClusterSpecSchema.parse({ auth: 'eks', name: 'prod-eu', endpoint: eks.url, caData: Buffer.from(eks.caCertificate!).toString('base64'), region: 'eu-west-1' });
      const cluster = clusterFromSpec(spec, { env: {}, clock, credentials: async () => credentials });

      await expect(cluster.readSecret('default', 'absent')).resolves.toBeUndefined();
      // Ten minutes on, a freshly signed token is sent, which this emulator does not know.
      clock.advance(10 * 60_000);
      await expect(cluster.readSecret('default', 'absent')).rejects.toBeInstanceOf(KubernetesForbiddenError);
    } finally {
      await eks.close();
    }
  });

  it('fails with a ConfigError naming a kubeconfig secret that does not exist', async () => {
    const secretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:certflow/missing-abcdef';
    const cluster = clusterFromSpec({ auth: 'kubeconfig-secret', name: 'sandbox', secretArn }, { env });
    const error = await cluster.readSecret(namespace, 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(secretArn);
    expect((error as Error).message).toContain('ResourceNotFoundException');
  });

  it('fails with a ConfigError that does not quote a secret that is not a kubeconfig', async () => {
    const secretArn = secretsManager.putSecret('certflow/kubeconfig/broken', 'users:\n- name: x\n  user: {token: "s3cr3t-t0ken", [unclosed');
    const cluster = clusterFromSpec({ auth: 'kubeconfig-secret', name: 'sandbox', secretArn }, { env });
    const error = await cluster.listSecrets(undefined, '').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('does not hold a kubeconfig');
    expect(`${(error as Error).message} ${JSON.stringify((error as ConfigError).details)}`).not.toContain('s3cr3t-t0ken');
  });
});

describe('the cluster spec schema', () => {
  it.each([
    ['an EKS cluster', 'accepted', { auth: 'eks', name: 'prod-eu', endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', caData: 'Q0E=', region: 'eu-west-1' }],
    ['an EKS endpoint over plain HTTP', 'rejected', { auth: 'eks', name: 'prod-eu', endpoint: 'http://ABC.eks.amazonaws.com', caData: 'Q0E=', region: 'eu-west-1' }],
    ['an EKS cluster without a region', 'rejected', { auth: 'eks', name: 'prod-eu', endpoint: 'https://ABC.eks.amazonaws.com', caData: 'Q0E=' }],
    ['a kubeconfig secret', 'accepted', { auth: 'kubeconfig-secret', name: 'onprem', secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:k' }],
    ['a token cluster with both a token and a token secret', 'rejected', { auth: 'token', name: 'x', server: 'https://k8s.local', token: 't', tokenSecretArn: 'arn' }],
    ['a token cluster with neither', 'rejected', { auth: 'token', name: 'x', server: 'https://k8s.local' }],
    ['an unknown auth', 'rejected', { auth: 'oidc', name: 'x' }],
    ['a cluster name with a space', 'rejected', { auth: 'kubeconfig-secret', name: 'my cluster', secretArn: 'arn' }],
  ])('%s is %s', (_case, verdict, input) => {
    expect(ClusterSpecSchema.safeParse(input).success).toBe(verdict === 'accepted');
  });
});
