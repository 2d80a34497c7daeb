import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { AwsPrincipal, AwsPrincipalTable } from './aws-principals';

/**
 * What STS would do with the sts:GetCallerIdentity request a client hands Vault in an AWS IAM
 * login (VAULT_API.md 6.1): check that it is a well-formed SigV4 request (AWS4-HMAC-SHA256
 * Authorization with Credential=AKID/date/region/sts/aws4_request, X-Amz-Date present, matching
 * and fresh, `host` among the signed headers), scoped to the region Vault's STS endpoint expects
 * (us-east-1 for global STS, P9), by a known access key; and, when the emulator knows the secret
 * key, that the signature is right. Failures carry STS's error code and message.
 */

export interface StsCall {
  readonly method: string;
  readonly url: URL;
  readonly body: string;
  /** Lower-case header names; every value as sent. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
}

export interface StsSettings {
  /** The region STS checks the credential scope against: us-east-1 for sts.amazonaws.com. */
  readonly region: string;
  readonly now: Date;
  readonly principals: AwsPrincipalTable;
}

export type StsResult =
  | { readonly ok: true; readonly principal: AwsPrincipal }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

const AUTHORIZATION = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{8})T(\d{6})Z$/;
const MAX_SKEW_MS = 15 * 60 * 1000;

function fail(status: number, code: string, message: string): StsResult {
  return { ok: false, status, code, message };
}

function header(call: StsCall, name: string): string | undefined {
  const values = call.headers.get(name);
  return values === undefined ? undefined : values.join(',');
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function amzDateOf(text: string): Date | undefined {
  const match = AMZ_DATE.exec(text);
  if (!match) return undefined;
  const [, day = '', time = ''] = match;
  const date = new Date(`${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function compact(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The SigV4 signature of a request, computed as STS computes it. */
export function sigV4Signature(call: StsCall, signedHeaders: readonly string[], scope: { date: string; region: string; service: string }, amzDate: string, secretAccessKey: string): string {
  const path = call.url.pathname === '' ? '/' : call.url.pathname.split('/').map((part) => encodeRfc3986(decodeURIComponent(part))).join('/');
  const query = [...call.url.searchParams.entries()]
    .map(([key, value]) => [encodeRfc3986(key), encodeRfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = name === 'host' ? (header(call, 'host') ?? call.url.host) : (header(call, name) ?? '');
      return `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const payloadHash = header(call, 'x-amz-content-sha256') ?? sha256Hex(call.body);
  const canonicalRequest = [call.method, path, query, canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, scope.date), scope.region), scope.service), 'aws4_request');
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
}

/** STS's answer to the forwarded GetCallerIdentity request. */
export function checkGetCallerIdentity(call: StsCall, settings: StsSettings): StsResult {
  const authorization = header(call, 'authorization');
  if (authorization === undefined) return fail(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  const match = AUTHORIZATION.exec(authorization.trim());
  if (!match) {
    return fail(400, 'IncompleteSignature', `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters of an AWS4-HMAC-SHA256 signature. Authorization=${authorization.split(' ')[0] ?? ''}`);
  }
  const [, accessKeyId = '', scopeDate = '', region = '', service = '', signedList = '', signature = ''] = match;
  if (service !== 'sts') return fail(403, 'SignatureDoesNotMatch', `Credential should be scoped to correct service: 'sts'. `);
  if (region !== settings.region) return fail(403, 'SignatureDoesNotMatch', `Credential should be scoped to a valid region, not '${region}'. `);
  const amzDateText = header(call, 'x-amz-date');
  if (amzDateText === undefined) {
    return fail(400, 'IncompleteSignature', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  const amzDate = amzDateOf(amzDateText);
  if (!amzDate) return fail(400, 'IncompleteSignature', `Date must be in ISO-8601 'basic format'. Got '${amzDateText}'.`);
  if (!amzDateText.startsWith(scopeDate)) {
    return fail(403, 'SignatureDoesNotMatch', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDateText.slice(0, 8)}'`);
  }
  const skew = settings.now.getTime() - amzDate.getTime();
  if (skew > MAX_SKEW_MS) {
    return fail(403, 'SignatureDoesNotMatch', `Signature expired: ${amzDateText} is now earlier than ${compact(new Date(settings.now.getTime() - MAX_SKEW_MS))} (${compact(settings.now)} - 15 min.)`);
  }
  if (-skew > MAX_SKEW_MS) {
    return fail(403, 'SignatureDoesNotMatch', `Signature not yet current: ${amzDateText} is still later than ${compact(new Date(settings.now.getTime() + MAX_SKEW_MS))} (${compact(settings.now)} + 15 min.)`);
  }
  const signedHeaders = signedList.split(';');
  if (!signedHeaders.includes('host')) return fail(403, 'SignatureDoesNotMatch', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const unsent = signedHeaders.find((name) => name !== 'host' && !call.headers.has(name));
  if (unsent) return fail(403, 'SignatureDoesNotMatch', `The request signature we calculated does not match the signature you provided: signed header '${unsent}' is missing.`);

  const principal = settings.principals.find(accessKeyId);
  if (!principal) return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
  if (principal.sessionToken !== undefined) {
    const token = header(call, 'x-amz-security-token');
    if (token !== principal.sessionToken || !signedHeaders.includes('x-amz-security-token')) {
      return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    }
  }
  if (principal.secretAccessKey !== undefined) {
    const expected = sigV4Signature(call, signedHeaders, { date: scopeDate, region, service }, amzDateText, principal.secretAccessKey);
    if (expected !== signature) {
      return fail(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
  }
  return { ok: true, principal };
}

/** STS's XML error body, as Vault quotes it after `received error code <status> from STS: `. */
export function stsErrorBody(result: Extract<StsResult, { ok: false }>): string {
  return [
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
    '  <Error>',
    '    <Type>Sender</Type>',
    `    <Code>${result.code}</Code>`,
    `    <Message>${result.message}</Message>`,
    '  </Error>',
    `  <RequestId>${randomUUID()}</RequestId>`,
    '</ErrorResponse>',
    '',
  ].join('\n');
}
