import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import NodeVault = require('node-vault');
import { type AuthRoutes, createAuthRoutes } from '../../sandbox/vault/auth/auth-routes';
import { startVaultCluster, type VaultClusterHandle } from '../../sandbox/vault/vault-cluster';

/**
 * The Vault emulator's auth methods (VAULT_API.md 6): token (lookup-self, renew-self, create),
 * AppRole, and AWS IAM with a real SigV4-signed sts:GetCallerIdentity, over HTTP with the real
 * node-vault client (7). The AWS method learns who an access key is from registerAwsPrincipal,
 * since the emulator cannot call STS; with the secret key registered it checks the signature.
 */

interface ApiError {
  message: string;
  response?: { statusCode: number; body: unknown };
}

interface Reply {
  data: any;
  auth: any;
  warnings: string[] | null;
}

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/certflow-lambda`;
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/certflow-lambda/rotation-1`;
const KEY_ID = 'ASIAEMULATOREXAMPLE1';
const SECRET = 'emulator/secret/key/EXAMPLE';
const SESSION_TOKEN = 'session-token-EXAMPLE';
const GET_CALLER_IDENTITY = 'Action=GetCallerIdentity&Version=2011-06-15';

const started: VaultClusterHandle[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((handle) => handle.close()));
});

async function cluster(options: { clockOffset?: () => number } = {}): Promise<{ handle: VaultClusterHandle; auth: AuthRoutes; root: NodeVault.client; url: string }> {
  const auth = createAuthRoutes();
  const offset = options.clockOffset;
  const handle = await startVaultCluster({ nodes: [{ id: 'vault-0' }], routes: [auth.routes], ...(offset ? { clock: () => new Date(Date.now() + offset()) } : {}) });
  started.push(handle);
  const { rootToken } = await handle.bootstrap({ shares: 1, threshold: 1 });
  const url = handle.node('vault-0').url;
  return { handle, auth, root: NodeVault({ endpoint: url, token: rootToken }), url };
}

async function rejection(call: Promise<unknown>): Promise<ApiError> {
  try {
    await call;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected the call to reject');
}

interface SignOptions {
  secretAccessKey?: string;
  region?: string;
  date?: Date;
  body?: string;
  extraHeaders?: Record<string, string>;
}

/** A SigV4-signed sts:GetCallerIdentity, as the Lambda adapter builds it; headers lower-case. */
async function signedHeaders(options: SignOptions = {}): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: 'sts',
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: KEY_ID, secretAccessKey: options.secretAccessKey ?? SECRET, sessionToken: SESSION_TOKEN },
    sha256: Hash.bind(null, 'sha256'),
  });
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'https:',
    hostname: 'sts.amazonaws.com',
    path: '/',
    headers: { host: 'sts.amazonaws.com', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...(options.extraHeaders ?? {}) },
    body: options.body ?? GET_CALLER_IDENTITY,
  });
  const signed = await signer.sign(request, { signingDate: options.date ?? new Date() });
  return { ...signed.headers };
}

/** The auth/aws/login body of 6.1, headers as base64 JSON of lists (or as a JSON object). */
function loginFields(headers: Record<string, string>, options: { body?: string; method?: string; headersAsObject?: boolean } = {}) {
  const lists = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
  return {
    iam_http_request_method: options.method ?? 'POST',
    iam_request_url: Buffer.from('https://sts.amazonaws.com/').toString('base64'),
    iam_request_body: Buffer.from(options.body ?? GET_CALLER_IDENTITY).toString('base64'),
    iam_request_headers: options.headersAsObject ? lists : Buffer.from(JSON.stringify(lists)).toString('base64'),
  };
}

async function awsSetup(boundArns: string[] = [ROLE_ARN]) {
  const env = await cluster();
  await env.root.write('auth/aws/role/lambda-pki', { auth_type: 'iam', bound_iam_principal_arn: boundArns, token_policies: ['pki-rotation'], token_ttl: '1h' });
  env.auth.registerAwsPrincipal(KEY_ID, SESSION_ARN, { secretAccessKey: SECRET, sessionToken: SESSION_TOKEN, userId: 'AROAEXAMPLEID:rotation-1' });
  return env;
}

describe('Vault emulator: ACL policies', () => {
  it('holds a non-root token to its policies on every path: 403 permission denied as Vault words it, globs, and deny', async () => {
    const { root, url } = await cluster();
    await root.write('sys/policies/acl/reader', { policy: JSON.stringify({ path: { 'auth/token/look*': { capabilities: ['read'] } } }) });
    await root.write('sys/policies/acl/nothing', { policy: JSON.stringify({ path: { 'secret/+': { capabilities: ['read'] } } }) });
    const tokenWith = async (policies: string[]) => ((await root.write('auth/token/create', { policies, no_default_policy: true })) as Reply).auth.client_token as string;

    const denied = await rejection(NodeVault({ endpoint: url, token: await tokenWith(['nothing']) }).tokenLookupSelf());
    expect(denied.response?.statusCode).toBe(403);
    expect(denied.response?.body).toEqual({ errors: ['1 error occurred:\n\t* permission denied\n\n'] });
    const reader = NodeVault({ endpoint: url, token: await tokenWith(['reader']) });
    expect(((await reader.tokenLookupSelf()) as Reply).data.policies).toEqual(['reader']);

    await root.write('sys/policies/acl/nothing', { policy: JSON.stringify({ path: { 'auth/token/lookup-self': { capabilities: ['deny'] } } }) });
    const both = NodeVault({ endpoint: url, token: await tokenWith(['reader', 'nothing']) });
    expect((await rejection(both.tokenLookupSelf())).response?.statusCode).toBe(403);
    expect(((await root.read('sys/policies/acl/reader')) as Reply).data.policy).toContain('auth/token/look*');
  });

  it('lists, enables and disables audit devices at sys/audit, a sudo path: read alone is 403, read with sudo lists', async () => {
    const { root, url } = await cluster();
    expect(((await root.read('sys/audit')) as Reply).data).toEqual({});
    await root.write('sys/audit/file', { type: 'file', options: { file_path: 'stdout' } });
    const listed = (await root.read('sys/audit')) as Reply & Record<string, unknown>;
    expect(listed.data).toEqual({ 'file/': { type: 'file', description: '', options: { file_path: 'stdout' }, local: false, path: 'file/' } });
    expect(listed['file/']).toEqual(listed.data['file/']);
    expect((await rejection(root.write('sys/audit/file', { type: 'file', options: { file_path: 'stdout' } }))).response?.body).toEqual({ errors: ['path already in use'] });
    expect((await rejection(root.write('sys/audit/other', { type: 'nope' }))).response?.body).toEqual({ errors: ['unknown backend type: "nope"'] });
    expect((await rejection(root.write('sys/audit/other', { type: 'file' }))).response?.body).toEqual({ errors: ['file_path is required'] });

    await root.write('sys/policies/acl/audit-read', { policy: JSON.stringify({ path: { 'sys/audit': { capabilities: ['read'] } } }) });
    await root.write('sys/policies/acl/audit-sudo', { policy: JSON.stringify({ path: { 'sys/audit': { capabilities: ['read', 'sudo'] } } }) });
    const tokenWith = async (policies: string[]) => ((await root.write('auth/token/create', { policies })) as Reply).auth.client_token as string;
    expect((await rejection(NodeVault({ endpoint: url, token: await tokenWith(['audit-read']) }).read('sys/audit'))).response?.statusCode).toBe(403);
    expect(Object.keys(((await NodeVault({ endpoint: url, token: await tokenWith(['audit-sudo']) }).read('sys/audit')) as Reply).data)).toEqual(['file/']);

    await root.delete('sys/audit/file');
    expect(((await root.read('sys/audit')) as Reply).data).toEqual({});
  });
});

describe('Vault auth emulator: token', () => {
  it('describes the root token on lookup-self: root policy, no TTL, no expiry', async () => {
    const { root } = await cluster();

    const self = (await root.tokenLookupSelf()) as Reply;

    expect(self.data).toMatchObject({ policies: ['root'], ttl: 0, expire_time: null, path: 'auth/token/root', renewable: false, type: 'service' });
  });

  it('answers lookup-self with 403 permission denied for an unknown token', async () => {
    const { url } = await cluster();

    const err = await rejection(NodeVault({ endpoint: url, token: 'hvs.unknown' }).tokenLookupSelf());

    expect(err.response?.statusCode).toBe(403);
    expect(err.message).toBe('permission denied');
  });

  it('creates a renewable token with the default policy added and the requested TTL, which lookup-self reports', async () => {
    const { root, url } = await cluster();

    const created = (await root.write('auth/token/create', { policies: ['pki-rotation'], ttl: '1h', display_name: 'rotation' })) as Reply;
    const self = (await NodeVault({ endpoint: url, token: created.auth.client_token }).tokenLookupSelf()) as Reply;

    expect(created.data).toBeNull();
    expect(created.auth).toMatchObject({ policies: ['default', 'pki-rotation'], token_policies: ['default', 'pki-rotation'], lease_duration: 3600, renewable: true });
    expect(created.auth.client_token).toMatch(/^hvs\./);
    expect(self.data).toMatchObject({ id: created.auth.client_token, accessor: created.auth.accessor, creation_ttl: 3600, display_name: 'token-rotation', renewable: true, path: 'auth/token/create' });
    expect(self.data.ttl).toBeGreaterThan(3590);
  });

  it('refuses token creation with a non-root token with 403', async () => {
    const { root, url } = await cluster();
    const created = (await root.write('auth/token/create', { policies: ['pki'] })) as Reply;

    const err = await rejection(NodeVault({ endpoint: url, token: created.auth.client_token }).write('auth/token/create', { policies: ['root'] }));

    expect(err.response?.statusCode).toBe(403);
  });

  it('expires tokens by the cluster clock: lookup-self then answers 403', async () => {
    let offset = 0;
    const { root, url } = await cluster({ clockOffset: () => offset });
    const created = (await root.write('auth/token/create', { policies: ['pki'], ttl: '1h' })) as Reply;
    const client = NodeVault({ endpoint: url, token: created.auth.client_token });

    const fresh = (await client.tokenLookupSelf()) as Reply;
    offset = 3601 * 1000;
    const expired = await rejection(client.tokenLookupSelf());

    expect(fresh.data.id).toBe(created.auth.client_token);
    expect(expired.response?.statusCode).toBe(403);
  });

  it('extends the lease on renew-self by the increment, past the original expiry', async () => {
    let offset = 0;
    const { root, url } = await cluster({ clockOffset: () => offset });
    const created = (await root.write('auth/token/create', { policies: ['pki'], ttl: '1h' })) as Reply;
    const client = NodeVault({ endpoint: url, token: created.auth.client_token });
    offset = 30 * 60 * 1000;

    const renewed = (await client.tokenRenewSelf({ increment: '2h' })) as Reply;
    offset = 2 * 3600 * 1000;
    const later = (await client.tokenLookupSelf()) as Reply;

    expect(renewed.auth).toMatchObject({ client_token: created.auth.client_token, accessor: created.auth.accessor, lease_duration: 7200, renewable: true, policies: ['default', 'pki'] });
    expect(later.data.ttl).toBeGreaterThan(0);
    expect(later.data.creation_ttl).toBe(3600);
  });

  it('caps the renewal at explicit_max_ttl with a warning', async () => {
    const { root, url } = await cluster();
    const created = (await root.write('auth/token/create', { policies: ['pki'], ttl: '1h', explicit_max_ttl: '90m' })) as Reply;

    const renewed = (await NodeVault({ endpoint: url, token: created.auth.client_token }).tokenRenewSelf({ increment: '10h' })) as Reply;

    expect(renewed.auth.lease_duration).toBeLessThanOrEqual(5400);
    expect(renewed.auth.lease_duration).toBeGreaterThan(5390);
    expect(renewed.warnings?.[0]).toMatch(/exceeded the effective max_ttl/);
  });

  it('refuses to renew a non-renewable token and the root token with 400 lease is not renewable', async () => {
    const { root, url } = await cluster();
    const fixed = (await root.write('auth/token/create', { policies: ['pki'], ttl: '1h', renewable: false })) as Reply;

    const nonRenewable = await rejection(NodeVault({ endpoint: url, token: fixed.auth.client_token }).tokenRenewSelf({}));
    const rootToken = await rejection(root.tokenRenewSelf({}));

    expect(nonRenewable.response?.statusCode).toBe(400);
    expect(nonRenewable.message).toBe('lease is not renewable');
    expect(rootToken.response?.statusCode).toBe(400);
    expect(rootToken.message).toBe('lease is not renewable');
  });

  it('answers renew-self of an expired token with 400 lease expired', async () => {
    let offset = 0;
    const { root, url } = await cluster({ clockOffset: () => offset });
    const created = (await root.write('auth/token/create', { policies: ['pki'], ttl: '1h' })) as Reply;
    offset = 2 * 3600 * 1000;

    const err = await rejection(NodeVault({ endpoint: url, token: created.auth.client_token }).tokenRenewSelf({}));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('lease expired');
  });
});

describe('Vault auth emulator: AppRole', () => {
  async function approle(roleBody: Record<string, unknown> = {}) {
    const env = await cluster();
    await env.root.write('auth/approle/role/rotation', { token_policies: ['pki-rotation'], token_ttl: '20m', ...roleBody });
    const roleId = ((await env.root.read('auth/approle/role/rotation/role-id')) as Reply).data.role_id as string;
    const secret = (await env.root.write('auth/approle/role/rotation/secret-id', {})) as Reply;
    return { ...env, roleId, secretId: secret.data.secret_id as string, secret };
  }

  it('logs in with role_id and secret_id and returns a token with the role’s policies and role_name metadata', async () => {
    const { url, roleId, secretId, secret } = await approle();
    const client = NodeVault({ endpoint: url });

    const login = (await client.approleLogin({ role_id: roleId, secret_id: secretId })) as Reply;
    const self = (await client.tokenLookupSelf()) as Reply;

    expect(secret.data).toMatchObject({ secret_id_ttl: 0, secret_id_num_uses: 0 });
    expect(login.auth).toMatchObject({ policies: ['default', 'pki-rotation'], token_policies: ['default', 'pki-rotation'], metadata: { role_name: 'rotation' }, lease_duration: 1200, renewable: true });
    expect(self.data.id).toBe(login.auth.client_token);
  });

  it('refuses a wrong secret_id and an unknown role_id with 400 invalid role or secret ID', async () => {
    const { url, roleId } = await approle();

    const wrongSecret = await rejection(NodeVault({ endpoint: url }).approleLogin({ role_id: roleId, secret_id: 'not-the-secret' }));
    const wrongRole = await rejection(NodeVault({ endpoint: url }).approleLogin({ role_id: 'not-a-role', secret_id: 'x' }));

    expect(wrongSecret.response?.statusCode).toBe(400);
    expect(wrongSecret.message).toBe('invalid role or secret ID');
    expect(wrongRole.response?.statusCode).toBe(400);
    expect(wrongRole.message).toBe('invalid role or secret ID');
  });

  it('lets a secret_id of a role with secret_id_num_uses 1 log in once', async () => {
    const { url, roleId, secretId } = await approle({ secret_id_num_uses: 1 });

    await NodeVault({ endpoint: url }).approleLogin({ role_id: roleId, secret_id: secretId });
    const second = await rejection(NodeVault({ endpoint: url }).approleLogin({ role_id: roleId, secret_id: secretId }));

    expect(second.response?.statusCode).toBe(400);
    expect(second.message).toBe('invalid role or secret ID');
  });

  it('keeps role management to the root token (403 otherwise) and answers role-id of an unknown role with 404', async () => {
    const { root, url, roleId, secretId } = await approle();
    const login = (await NodeVault({ endpoint: url }).approleLogin({ role_id: roleId, secret_id: secretId })) as Reply;

    const denied = await rejection(NodeVault({ endpoint: url, token: login.auth.client_token }).write('auth/approle/role/other', {}));
    const unknown = await rejection(root.read('auth/approle/role/ghost/role-id'));

    expect(denied.response?.statusCode).toBe(403);
    expect(unknown.response?.statusCode).toBe(404);
  });
});

describe('Vault auth emulator: AWS IAM', () => {
  it('logs in with a SigV4-signed GetCallerIdentity for a principal bound to the role', async () => {
    const { url } = await awsSetup();
    const client = NodeVault({ endpoint: url });

    const login = (await client.awsIamLogin({ role: 'lambda-pki', ...loginFields(await signedHeaders()) } as never)) as Reply;
    const self = (await client.tokenLookupSelf()) as Reply;

    expect(login.auth).toMatchObject({
      policies: ['default', 'pki-rotation'],
      token_policies: ['default', 'pki-rotation'],
      metadata: { account_id: ACCOUNT, auth_type: 'iam', canonical_arn: ROLE_ARN, client_arn: SESSION_ARN, client_user_id: 'AROAEXAMPLEID' },
      lease_duration: 3600,
      renewable: true,
    });
    expect(login.auth.client_token).toMatch(/^hvs\./);
    expect(self.data.path).toBe('auth/aws/login');
  });

  it('accepts iam_request_headers as a JSON object too', async () => {
    const { url } = await awsSetup();

    const login = (await NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(await signedHeaders(), { headersAsObject: true }) })) as Reply;

    expect(login.auth.metadata.auth_type).toBe('iam');
  });

  it('refuses an unknown role with 400 entry for role "…" not found', async () => {
    const { url } = await awsSetup();

    const err = await rejection(NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'nope', ...loginFields(await signedHeaders()) }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe('entry for role "nope" not found');
  });

  it('refuses a principal that is not bound to the role with 400 IAM Principal … does not belong to the role …', async () => {
    const { url } = await awsSetup([`arn:aws:iam::${ACCOUNT}:role/someone-else`]);

    const err = await rejection(NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(await signedHeaders()) }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toBe(`IAM Principal "${SESSION_ARN}" does not belong to the role "lambda-pki"`);
  });

  it('matches a bound ARN ending in * as a glob', async () => {
    const { url } = await awsSetup([`arn:aws:iam::${ACCOUNT}:role/certflow-*`]);

    const login = (await NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(await signedHeaders()) })) as Reply;

    expect(login.auth.metadata.canonical_arn).toBe(ROLE_ARN);
  });

  it('refuses a request signed for another region, as STS does (P9)', async () => {
    const { url } = await awsSetup();

    const err = await rejection(NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(await signedHeaders({ region: 'eu-west-1' })) }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toMatch(/^error making upstream request: received error code 403 from STS: <ErrorResponse/);
    expect(err.message).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(err.message).toContain("Credential should be scoped to a valid region, not 'eu-west-1'.");
  });

  it('accepts the regional signature once config/client names that STS region', async () => {
    const { root, url } = await awsSetup();
    await root.write('auth/aws/config/client', { sts_endpoint: 'https://sts.eu-west-1.amazonaws.com', sts_region: 'eu-west-1' });

    const login = (await NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(await signedHeaders({ region: 'eu-west-1' })) })) as Reply;

    expect(login.auth.renewable).toBe(true);
  });

  it('refuses a request signed with the wrong secret key with SignatureDoesNotMatch', async () => {
    const { url } = await awsSetup();

    const err = await rejection(NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(await signedHeaders({ secretAccessKey: 'wrong' })) }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(err.message).toContain('The request signature we calculated does not match the signature you provided.');
  });

  it('refuses an access key STS does not know with InvalidClientTokenId', async () => {
    const { url, auth } = await awsSetup();
    auth.principals.remove(KEY_ID);

    const err = await rejection(NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(await signedHeaders()) }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toContain('<Code>InvalidClientTokenId</Code>');
  });

  it('refuses a request signed more than 15 minutes ago', async () => {
    const { url } = await awsSetup();

    const err = await rejection(
      NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(await signedHeaders({ date: new Date(Date.now() - 20 * 60 * 1000) })) }),
    );

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toContain('Signature expired:');
  });

  it.each([
    ['without an Authorization header', (headers: Record<string, string>) => ({ ...headers, authorization: undefined }), 'MissingAuthenticationToken'],
    ['without X-Amz-Date', (headers: Record<string, string>) => ({ ...headers, 'x-amz-date': undefined }), "requires existence of either a 'X-Amz-Date'"],
    [
      'whose signed headers leave out host',
      (headers: Record<string, string>) => ({ ...headers, authorization: (headers.authorization ?? '').replace('host;', '') }),
      "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    ],
    [
      'that is not AWS4-HMAC-SHA256',
      (headers: Record<string, string>) => ({ ...headers, authorization: (headers.authorization ?? '').replace('AWS4-HMAC-SHA256', 'AWS3') }),
      'IncompleteSignature',
    ],
  ])('refuses a login request %s as STS would', async (_name, mangle, expected) => {
    const { url } = await awsSetup();
    const headers = Object.fromEntries(Object.entries(mangle(await signedHeaders())).filter(([, value]) => value !== undefined)) as Record<string, string>;

    const err = await rejection(NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(headers) }));

    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toMatch(/^error making upstream request: received error code 40[03] from STS/);
    expect(err.message).toContain(expected);
  });

  it('refuses a method other than POST and a body other than GetCallerIdentity with 400', async () => {
    const { url } = await awsSetup();
    const headers = await signedHeaders();

    const get = await rejection(NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(headers, { method: 'GET' }) }));
    const other = await rejection(NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(headers, { body: 'Action=GetSessionToken&Version=2011-06-15' }) }));

    expect(get.message).toBe("invalid iam_http_request_method; currently only 'POST' is supported");
    expect(other.response?.statusCode).toBe(400);
    expect(other.message).toMatch(/^error making upstream request: /);
  });

  it('requires a signed X-Vault-AWS-IAM-Server-ID header with the configured value', async () => {
    const { root, url } = await awsSetup();
    await root.write('auth/aws/config/client', { iam_server_id_header_value: 'vault.certflow.internal' });

    const missing = await rejection(NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(await signedHeaders()) }));
    const withHeader = await signedHeaders({ extraHeaders: { 'x-vault-aws-iam-server-id': 'vault.certflow.internal' } });
    const login = (await NodeVault({ endpoint: url }).write('auth/aws/login', { role: 'lambda-pki', ...loginFields(withHeader) })) as Reply;

    expect(missing.response?.statusCode).toBe(400);
    expect(missing.message).toBe('error validating X-Vault-AWS-IAM-Server-ID header: missing header "X-Vault-AWS-IAM-Server-ID"');
    expect(login.auth.metadata.auth_type).toBe('iam');
  });

  it('keeps AWS role management to the root token', async () => {
    const { url } = await awsSetup();

    const err = await rejection(NodeVault({ endpoint: url, token: 'hvs.nobody' }).write('auth/aws/role/other', { auth_type: 'iam', bound_iam_principal_arn: [ROLE_ARN] }));

    expect(err.response?.statusCode).toBe(403);
  });
});
