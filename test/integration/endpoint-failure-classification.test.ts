import { Agent, createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { kubeConfigFromOptions } from '../../functions/adapters/kubernetes/kube-auth';
import { KubernetesCluster } from '../../functions/adapters/kubernetes/kubernetes-cluster';
import { SfnExecutions } from '../../functions/adapters/aws/sfn-executions';
import { NodeVaultPki } from '../../functions/adapters/vault/node-vault-pki';
import { createVaultClient } from '../../functions/adapters/vault/vault-client';
import { staticToken } from '../../functions/adapters/vault/vault-login';
import { isRetryable } from '../../functions/contracts/errors';
import { makeKeys, makeLeaf, makeRoot, privateKeyPem } from '../support/pki-fixtures';

/**
 * How the adapters classify failures that got no HTTP answer: as the AWS SDK's retry strategy
 * does (a refused connection may pass on retry; missing credentials never will), and an endpoint
 * whose certificate names another host is refused as a TLS identity failure, never retried.
 */
const stateMachineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:certflow-rotation';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

async function failureOf(call: Promise<unknown>): Promise<Error & { name: string; retryable?: boolean; details?: Record<string, unknown> }> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (!outcome) throw new Error('expected the call to fail');
  return outcome as Error & { name: string };
}

async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('an endpoint that presents a certificate for another name', () => {
  let server: Server;
  let url: string;
  let caPem: string;
  let answered = 0;

  beforeAll(async () => {
    const now = Date.now();
    const root = await makeRoot({ name: 'CN=test root', key: await makeKeys('ec'), notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) });
    const leafKey = await makeKeys('ec');
    const leaf = await makeLeaf({ issuer: root, key: leafKey, commonName: 'api.elsewhere.test', dnsNames: ['api.elsewhere.test'], notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) });
    caPem = root.pem;
    server = createHttpsServer({ cert: leaf.pem, key: await privateKeyPem(leafKey) }, (_request, response) => {
      answered += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is a terminal TlsIdentityError from the Kubernetes adapter, and no request reaches it', async () => {
    const kc = kubeConfigFromOptions({ name: 'wrong-name', server: url, token: 'a-token', caData: Buffer.from(caPem).toString('base64') });
    const cluster = new KubernetesCluster({ name: 'wrong-name', kubeConfig: () => kc });

    const error = await failureOf(cluster.readSecret('payments', 'web-tls'));

    expect(error.name).toBe('TlsIdentityError');
    expect(isRetryable(error)).toBe(false);
    expect(error.details).toMatchObject({ tlsCode: 'ERR_TLS_CERT_ALTNAME_INVALID', cluster: 'wrong-name' });
    expect(answered).toBe(0);
  });

  it('is a terminal TlsIdentityError from the Vault adapter, with the pinned CA', async () => {
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const pki = new NodeVaultPki(createVaultClient({ endpoint: url, caPem }), staticToken('a-token'), quiet);

    const error = await failureOf(pki.defaultIssuer('pki_int'));

    expect(error.name).toBe('TlsIdentityError');
    expect(isRetryable(error)).toBe(false);
    expect(answered).toBe(0);
  });

  it('is a terminal TlsIdentityError from an AWS adapter', async () => {
    const client = new SFNClient({ region: 'us-east-1', endpoint: url, credentials, maxAttempts: 1, requestHandler: { httpsAgent: new Agent({ ca: caPem }) } });

    const error = await failureOf(new SfnExecutions(client, stateMachineArn).listRunning());

    expect(error.name).toBe('TlsIdentityError');
    expect(isRetryable(error)).toBe(false);
    expect(answered).toBe(0);
  });
});

describe('an AWS call that gets no answer', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('is a retryable AwsUnavailableError when the connection is refused', async () => {
    const client = new SFNClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${await closedPort()}`, credentials, maxAttempts: 1 });

    const error = await failureOf(new SfnExecutions(client, stateMachineArn).listRunning());

    expect(error.name).toBe('AwsUnavailableError');
    expect(isRetryable(error)).toBe(true);
  });

  it('is a terminal ConfigError when no credentials can be found', async () => {
    // A Lambda without a role, or an operator's shell without a profile: every provider of the chain comes up empty.
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    const client = new SFNClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${await closedPort()}`, credentials: defaultProvider(), maxAttempts: 1 });

    const error = await failureOf(new SfnExecutions(client, stateMachineArn).listRunning());

    expect(error.name).toBe('ConfigError');
    expect(isRetryable(error)).toBe(false);
    expect(error.details).toMatchObject({ awsError: 'CredentialsProviderError' });
  });
});
