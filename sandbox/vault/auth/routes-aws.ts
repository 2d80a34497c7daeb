import { randomUUID } from 'node:crypto';
import type { JsonObject, JsonValue } from '../envelope';
import { envelope, noContent, VaultApiError } from '../envelope';
import { bool, duration, has, list, str } from '../pki/pki-values';
import type { ClusterContext, RouteDefinition, VaultRequest } from '../router';
import type { AuthTokens } from './auth-tokens';
import { type AwsPrincipalTable, canonicalArn, parseIamArn } from './aws-principals';
import { checkGetCallerIdentity, type StsCall, stsErrorBody } from './sigv4-check';

/**
 * The AWS auth method, IAM type (VAULT_API.md 6.1) at `auth/<mount>/`: roles bound to IAM
 * principal ARNs, `config/client` (STS endpoint/region, iam_server_id_header_value), and login.
 * Vault forwards the client's signed GetCallerIdentity to STS; the emulator checks it the way STS
 * would (sigv4-check.ts) and learns the caller from an emulator-side table of access keys
 * (aws-principals.ts, `registerAwsPrincipal`). Errors are Vault's 400s.
 */

interface AwsRole {
  authType: 'iam' | 'ec2';
  boundIamPrincipalArns: string[];
  boundAccountIds: string[];
  tokenPolicies: string[];
  tokenTtl: number;
  tokenMaxTtl: number;
  resolveAwsUniqueIds: boolean;
  readonly roleId: string;
}

interface ClientConfig {
  stsEndpoint: string;
  stsRegion: string;
  iamServerIdHeaderValue: string;
  useStsRegionFromClient: boolean;
}

const SERVER_ID_HEADER = 'x-vault-aws-iam-server-id';

function decodeBase64(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64').toString('utf8');
}

/** TypeHeader: a JSON object, or base64 of one (or plain JSON text); values a string or a list. */
function parseHeaders(raw: JsonValue | undefined): Map<string, string[]> | undefined {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    const text = raw.trim().startsWith('{') ? raw : decodeBase64(raw.trim());
    if (text === undefined) return undefined;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const headers = new Map<string, string[]>();
  for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
    const values = Array.isArray(entry) ? entry.map(String) : [String(entry)];
    headers.set(name.toLowerCase(), [...(headers.get(name.toLowerCase()) ?? []), ...values]);
  }
  return headers;
}

function applyRole(role: AwsRole, body: JsonObject): AwsRole {
  if (has(body, 'auth_type')) {
    const authType = str(body, 'auth_type');
    if (authType !== 'iam' && authType !== 'ec2') throw new VaultApiError(400, `unrecognized auth_type: ${authType}`);
    role.authType = authType;
  } else if (has(body, 'bound_iam_principal_arn')) {
    role.authType = 'iam';
  }
  if (has(body, 'bound_iam_principal_arn')) role.boundIamPrincipalArns = list(body, 'bound_iam_principal_arn');
  if (has(body, 'bound_account_id')) role.boundAccountIds = list(body, 'bound_account_id');
  if (has(body, 'token_policies')) role.tokenPolicies = list(body, 'token_policies');
  else if (has(body, 'policies')) role.tokenPolicies = list(body, 'policies');
  if (has(body, 'token_ttl')) role.tokenTtl = duration(body, 'token_ttl');
  if (has(body, 'token_max_ttl')) role.tokenMaxTtl = duration(body, 'token_max_ttl');
  if (has(body, 'resolve_aws_unique_ids')) role.resolveAwsUniqueIds = bool(body, 'resolve_aws_unique_ids');
  if (role.authType === 'iam') {
    if (role.boundIamPrincipalArns.length === 0) throw new VaultApiError(400, 'at least one bound parameter should be specified on the role');
    const bad = role.boundIamPrincipalArns.find((arn) => !arn.endsWith('*') && !parseIamArn(arn));
    if (bad !== undefined) throw new VaultApiError(400, `unable to parse bound_iam_principal_arn ${JSON.stringify(bad)}`);
  }
  return role;
}

function roleData(role: AwsRole): Record<string, unknown> {
  return {
    auth_type: role.authType,
    bound_iam_principal_arn: role.boundIamPrincipalArns,
    bound_account_id: role.boundAccountIds,
    resolve_aws_unique_ids: role.resolveAwsUniqueIds,
    role_id: role.roleId,
    token_policies: role.tokenPolicies,
    policies: role.tokenPolicies,
    token_ttl: role.tokenTtl,
    token_max_ttl: role.tokenMaxTtl,
    token_type: 'default',
  };
}

function globMatches(pattern: string, value: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(value);
}

export function awsRoutes(cluster: ClusterContext, tokens: AuthTokens, principals: AwsPrincipalTable, mount = 'aws'): RouteDefinition[] {
  const roles = new Map<string, AwsRole>();
  const config: ClientConfig = { stsEndpoint: '', stsRegion: '', iamServerIdHeaderValue: '', useStsRegionFromClient: false };

  function expectedRegion(): string | undefined {
    if (config.useStsRegionFromClient) return undefined;
    if (config.stsRegion !== '') return config.stsRegion;
    const regional = /^https?:\/\/sts\.([a-z0-9-]+)\.amazonaws\.com/.exec(config.stsEndpoint);
    return regional?.[1] ?? 'us-east-1';
  }

  function login(request: VaultRequest) {
    const body = request.body;
    const iamFields = ['iam_http_request_method', 'iam_request_url', 'iam_request_body', 'iam_request_headers'];
    const present = iamFields.filter((field) => has(body, field));
    const ec2 = ['pkcs7', 'identity', 'signature'].some((field) => has(body, field));
    if (ec2 && present.length > 0) throw new VaultApiError(400, 'supplied auth values for both ec2 and iam auth types');
    if (ec2) throw new VaultApiError(400, 'the ec2 auth type is not supported by the Vault emulator');
    if (present.length === 0) throw new VaultApiError(400, "didn't supply required authentication values");
    if (present.length < iamFields.length) throw new VaultApiError(400, 'supplied some of the auth values for the iam auth type but not all');

    const method = str(body, 'iam_http_request_method');
    if (method === '') throw new VaultApiError(400, 'missing iam_http_request_method');
    if (method !== 'POST') throw new VaultApiError(400, "invalid iam_http_request_method; currently only 'POST' is supported");
    const urlText = decodeBase64(str(body, 'iam_request_url'));
    if (urlText === undefined) throw new VaultApiError(400, 'failed to base64 decode iam_request_url');
    let url: URL;
    try {
      url = new URL(urlText);
    } catch {
      throw new VaultApiError(400, 'error parsing iam_request_url');
    }
    const requestBody = decodeBase64(str(body, 'iam_request_body'));
    if (requestBody === undefined) throw new VaultApiError(400, 'failed to base64 decode iam_request_body');
    const headers = parseHeaders(body.iam_request_headers);
    if (!headers || headers.size === 0) throw new VaultApiError(400, 'missing iam_request_headers');

    if (config.iamServerIdHeaderValue !== '') {
      const sent = headers.get(SERVER_ID_HEADER);
      const signed = /SignedHeaders=([^,]+)/.exec(headers.get('authorization')?.join(',') ?? '')?.[1]?.split(';') ?? [];
      let problem = '';
      if (!sent) problem = `missing header "X-Vault-AWS-IAM-Server-ID"`;
      else if (sent.join(',') !== config.iamServerIdHeaderValue) problem = `expected "${config.iamServerIdHeaderValue}" but got "${sent.join(',')}"`;
      else if (!signed.includes(SERVER_ID_HEADER)) problem = 'vault header wasn\'t signed';
      if (problem !== '') throw new VaultApiError(400, `error validating X-Vault-AWS-IAM-Server-ID header: ${problem}`);
    }

    // Vault only ever forwards GetCallerIdentity to STS.
    const form = new URLSearchParams(requestBody);
    if (form.get('Action') !== 'GetCallerIdentity' || form.get('Version') !== '2011-06-15') {
      throw new VaultApiError(400, 'error making upstream request: iam_request_body must be Action=GetCallerIdentity&Version=2011-06-15');
    }
    const call: StsCall = { method, url, body: requestBody, headers };
    const region = expectedRegion();
    const result = checkGetCallerIdentity(call, {
      region: region ?? /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(headers.get('authorization')?.join(',') ?? '')?.[1] ?? 'us-east-1',
      now: cluster.storage.now(),
      principals,
    });
    if (!result.ok) throw new VaultApiError(400, `error making upstream request: received error code ${result.status} from STS: ${stsErrorBody(result)}`);

    const callerArn = result.principal.arn;
    const entity = parseIamArn(callerArn);
    if (!entity) throw new VaultApiError(400, `error parsing arn "${callerArn}": unrecognized arn`);
    const roleName = str(body, 'role') || entity.friendlyName;
    const role = roles.get(roleName);
    if (!role) throw new VaultApiError(400, `entry for role "${roleName}" not found`);
    if (role.authType !== 'iam') throw new VaultApiError(400, `auth method iam not allowed for role ${roleName}`);
    const canonical = canonicalArn(entity);
    if (role.boundIamPrincipalArns.length > 0) {
      const bound =
        role.boundIamPrincipalArns.includes(canonical) ||
        role.boundIamPrincipalArns.some((pattern) => pattern.endsWith('*') && (globMatches(pattern, canonical) || globMatches(pattern, callerArn)));
      if (!bound) throw new VaultApiError(400, `IAM Principal "${callerArn}" does not belong to the role "${roleName}"`);
    }
    if (role.boundAccountIds.length > 0 && !role.boundAccountIds.includes(entity.accountNumber)) {
      throw new VaultApiError(400, `account ID "${entity.accountNumber}" does not belong to role "${roleName}"`);
    }
    const userId = result.principal.userId ?? `AIDA${result.principal.accessKeyId.slice(4)}`;
    const record = tokens.issue({
      policies: role.tokenPolicies,
      ttl: role.tokenTtl,
      maxTtl: role.tokenMaxTtl,
      renewable: true,
      displayName: `${mount}-${entity.friendlyName}`,
      meta: {
        account_id: entity.accountNumber,
        auth_type: 'iam',
        canonical_arn: canonical,
        client_arn: callerArn,
        client_user_id: userId.split(':')[0] ?? userId,
        inferred_aws_region: '',
        inferred_entity_id: '',
        inferred_entity_type: '',
        role_id: role.roleId,
      },
      path: `auth/${mount}/login`,
      orphan: true,
    });
    return envelope(null, { auth: tokens.authBlock(record) });
  }

  function writeRole(request: VaultRequest) {
    const name = request.params.name ?? '';
    const existing = roles.get(name);
    const base: AwsRole = existing
      ? { ...existing }
      : {
          authType: 'ec2',
          boundIamPrincipalArns: [],
          boundAccountIds: [],
          tokenPolicies: [],
          tokenTtl: 0,
          tokenMaxTtl: 0,
          resolveAwsUniqueIds: true,
          roleId: randomUUID(),
        };
    roles.set(name, applyRole(base, request.body));
    return noContent();
  }

  const listRoles = () => {
    const names = [...roles.keys()].sort();
    if (names.length === 0) throw new VaultApiError(404);
    return envelope({ keys: names });
  };

  return [
    { pattern: `auth/${mount}/login`, auth: 'none', operations: { update: (_, request) => login(request) } },
    { pattern: `auth/${mount}/roles`, auth: 'root', operations: { list: listRoles } },
    { pattern: `auth/${mount}/role`, auth: 'root', operations: { list: listRoles } },
    {
      pattern: `auth/${mount}/role/:name`,
      auth: 'root',
      operations: {
        update: (_, request) => writeRole(request),
        read: (_, request) => {
          const role = roles.get(request.params.name ?? '');
          if (!role) throw new VaultApiError(404);
          return envelope(roleData(role));
        },
        delete: (_, request) => {
          roles.delete(request.params.name ?? '');
          return noContent();
        },
      },
    },
    {
      pattern: `auth/${mount}/config/client`,
      auth: 'root',
      operations: {
        read: () =>
          envelope({
            sts_endpoint: config.stsEndpoint,
            sts_region: config.stsRegion,
            iam_server_id_header_value: config.iamServerIdHeaderValue,
            use_sts_region_from_client: config.useStsRegionFromClient,
          }),
        update: (_, request) => {
          const body = request.body;
          if (has(body, 'sts_endpoint')) config.stsEndpoint = str(body, 'sts_endpoint');
          if (has(body, 'sts_region')) config.stsRegion = str(body, 'sts_region');
          if (has(body, 'iam_server_id_header_value')) config.iamServerIdHeaderValue = str(body, 'iam_server_id_header_value');
          if (has(body, 'use_sts_region_from_client')) config.useStsRegionFromClient = bool(body, 'use_sts_region_from_client');
          return noContent();
        },
      },
    },
  ];
}
