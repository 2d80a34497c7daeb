import type NodeVault = require('node-vault');
import type {
  ImportResult,
  IssuedLeaf,
  AutoTidyConfig,
  IssuerDetails,
  IssuerSummary,
  LeafNotAfterBehavior,
  LeafRequest,
  SignedIntermediate,
  VaultPki,
} from '../../ports/vault-pki';
import type { Log } from '../../ports/log';
import { InvalidInputError, VaultPermissionError } from '../../contracts/errors';
import { mapVaultError, vaultStatusOf } from './vault-errors';
import type { TokenProvider } from './vault-login';

interface Envelope<T> {
  data?: T;
  warnings?: string[] | null;
}

/**
 * VaultPki over node-vault's generic calls (node-vault has no PKI methods, VAULT_API.md 7), with
 * every quirk handled here: 202 from tidy rejects, an empty LIST rejects with 404, issuer updates
 * are PATCH with merge-patch, warnings are logged, errors are typed by status.
 */
export class NodeVaultPki implements VaultPki {
  constructor(
    private readonly client: NodeVault.client,
    private readonly tokens: TokenProvider,
    private readonly log: Log,
  ) {}

  async listIssuers(mount: string): Promise<IssuerSummary[]> {
    const body = await this.call<{ keys: string[]; key_info: Record<string, { issuer_name?: string; is_default?: boolean; serial_number?: string; key_id?: string }> }>(
      `LIST ${mount}/issuers`,
      () => this.client.list(`${mount}/issuers`),
      { emptyListOn404: true },
    );
    if (!body) return [];
    return body.keys.map((issuerId) => {
      const info = body.key_info?.[issuerId] ?? {};
      return { issuerId, issuerName: info.issuer_name ?? '', isDefault: info.is_default === true, serialNumber: info.serial_number ?? '', keyId: info.key_id ?? '' };
    });
  }

  async readIssuer(mount: string, ref: string): Promise<IssuerDetails> {
    const data = await this.call<RawIssuer>(`GET ${mount}/issuer/${ref}`, () => this.client.read(`${mount}/issuer/${encodeURIComponent(ref)}`));
    return toIssuer(required(data, `${mount}/issuer/${ref}`));
  }

  async defaultIssuer(mount: string): Promise<string | undefined> {
    const data = await this.call<{ default?: string }>(`GET ${mount}/config/issuers`, () => this.client.read(`${mount}/config/issuers`));
    return data?.default || undefined;
  }

  async setDefaultIssuer(mount: string, issuerId: string): Promise<void> {
    await this.call(`POST ${mount}/config/issuers`, () => this.client.write(`${mount}/config/issuers`, { default: issuerId }));
  }

  async keyIdByName(mount: string, name: string): Promise<string | undefined> {
    const body = await this.call<{ keys: string[]; key_info?: Record<string, { key_name?: string }> }>(`LIST ${mount}/keys`, () => this.client.list(`${mount}/keys`), {
      emptyListOn404: true,
    });
    if (!body) return undefined;
    return body.keys.find((keyId) => body.key_info?.[keyId]?.key_name === name);
  }

  async generateIntermediateCsr(
    mount: string,
    request: { commonName: string; keyType: 'ec' | 'rsa'; keyBits: number; keyName: string; organization?: string; keyRef?: string },
  ): Promise<{ csrPem: string; keyId: string }> {
    // `existing` reuses a key made by an earlier attempt of the same run: a retried step does not
    // leave a second key behind (4.4).
    const type = request.keyRef ? 'existing' : 'internal';
    const path = `${mount}/issuers/generate/intermediate/${type}`;
    const data = await this.call<{ csr: string; key_id: string }>(`POST ${path}`, () =>
      this.client.write(path, {
        common_name: request.commonName,
        ...(request.keyRef ? { key_ref: request.keyRef } : { key_type: request.keyType, key_bits: request.keyBits, key_name: request.keyName }),
        ...(request.organization ? { organization: request.organization } : {}),
      }),
    );
    const body = required(data, path);
    return { csrPem: body.csr, keyId: body.key_id };
  }

  async signIntermediate(
    rootMount: string,
    request: { csrPem: string; commonName: string; ttl: string; notAfter?: Date; issuerRef?: string; maxPathLength?: number; organization?: string; permittedDnsDomains?: string[]; permittedUriDomains?: string[] },
  ): Promise<SignedIntermediate> {
    const path = request.issuerRef ? `${rootMount}/issuer/${encodeURIComponent(request.issuerRef)}/sign-intermediate` : `${rootMount}/root/sign-intermediate`;
    const { data, warnings } = await this.callWithWarnings<{ certificate: string; issuing_ca: string; ca_chain?: string[]; serial_number: string; expiration: number | string }>(
      `POST ${path}`,
      () =>
        this.client.write(path, {
          csr: request.csrPem,
          common_name: request.commonName,
          // Vault takes ttl or not_after, never both (400 "Either ttl or not_after should be provided").
          ...(request.notAfter ? {} : { ttl: request.ttl }),
          max_path_length: request.maxPathLength ?? 0,
          ...(request.organization ? { organization: request.organization } : {}),
          // Vault's format: YYYY-MM-DDTHH:MM:SSZ, whole seconds (4.5).
          ...(request.notAfter ? { not_after: request.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
          ...(request.permittedDnsDomains?.length ? { permitted_dns_domains: request.permittedDnsDomains.join(',') } : {}),
          ...(request.permittedUriDomains?.length ? { permitted_uri_domains: request.permittedUriDomains.join(',') } : {}),
          format: 'pem',
        }),
    );
    const body = required(data, path);
    return {
      certificatePem: body.certificate,
      issuingCaPem: body.issuing_ca,
      caChainPem: body.ca_chain ?? [body.certificate, body.issuing_ca],
      serialNumber: body.serial_number,
      // Some doc samples show expiration as a string; the code returns a number (4.5).
      expiration: Number(body.expiration),
      warnings,
    };
  }

  async importIssuers(mount: string, pemBundle: string): Promise<ImportResult> {
    const data = await this.call<{ imported_issuers?: string[] | null; mapping?: Record<string, string> | null }>(`POST ${mount}/issuers/import/bundle`, () =>
      this.client.write(`${mount}/issuers/import/bundle`, { pem_bundle: pemBundle }),
    );
    return { importedIssuers: data?.imported_issuers ?? [], mapping: data?.mapping ?? {} };
  }

  async updateIssuer(
    mount: string,
    ref: string,
    patch: { issuerName?: string; leafNotAfterBehavior?: LeafNotAfterBehavior; usage?: string[] },
  ): Promise<IssuerDetails> {
    const body: Record<string, unknown> = {};
    if (patch.issuerName !== undefined) body.issuer_name = patch.issuerName;
    if (patch.leafNotAfterBehavior !== undefined) body.leaf_not_after_behavior = patch.leafNotAfterBehavior;
    if (patch.usage !== undefined) body.usage = patch.usage.join(',');
    // update() is PATCH with application/merge-patch+json: a POST would reset every field left out (P5).
    const data = await this.call<RawIssuer>(`PATCH ${mount}/issuer/${ref}`, () => this.client.update(`${mount}/issuer/${encodeURIComponent(ref)}`, body));
    return toIssuer(required(data, `${mount}/issuer/${ref}`));
  }

  async revokeIssuer(mount: string, ref: string): Promise<IssuerDetails> {
    const data = await this.call<RawIssuer>(`POST ${mount}/issuer/${ref}/revoke`, () => this.client.write(`${mount}/issuer/${encodeURIComponent(ref)}/revoke`, {}));
    return toIssuer(required(data, `${mount}/issuer/${ref}/revoke`));
  }

  async revokeSerial(mount: string, serialNumber: string): Promise<{ revoked: boolean; warnings: string[] }> {
    const { data, warnings } = await this.callWithWarnings<{ state?: string; revocation_time?: number }>(`POST ${mount}/revoke`, () =>
      this.client.write(`${mount}/revoke`, { serial_number: serialNumber }),
    );
    // An expired certificate answers 200 with no data and a warning: it is not on any CRL (4.12).
    return { revoked: data?.revocation_time !== undefined, warnings };
  }

  async rotateCrl(mount: string): Promise<void> {
    await this.call(`GET ${mount}/crl/rotate`, () => this.client.read(`${mount}/crl/rotate`));
  }

  async issuerCrl(mount: string, ref: string): Promise<string> {
    const data = await this.call<{ crl: string }>(`GET ${mount}/issuer/${ref}/crl`, () => this.client.read(`${mount}/issuer/${encodeURIComponent(ref)}/crl`));
    return required(data, `${mount}/issuer/${ref}/crl`).crl;
  }

  async issueLeaf(mount: string, role: string, request: LeafRequest): Promise<IssuedLeaf> {
    const path = request.issuerRef ? `${mount}/issuer/${encodeURIComponent(request.issuerRef)}/issue/${role}` : `${mount}/issue/${role}`;
    const data = await this.call<RawLeaf>(`POST ${path}`, () => this.client.write(path, leafBody(request)));
    return toLeaf(required(data, path));
  }

  async signLeaf(mount: string, role: string, request: LeafRequest & { csrPem: string }): Promise<IssuedLeaf> {
    const path = request.issuerRef ? `${mount}/issuer/${encodeURIComponent(request.issuerRef)}/sign/${role}` : `${mount}/sign/${role}`;
    const data = await this.call<RawLeaf>(`POST ${path}`, () => this.client.write(path, { ...leafBody(request), csr: request.csrPem }));
    return toLeaf(required(data, path));
  }

  async listCertificates(mount: string): Promise<string[]> {
    const body = await this.call<{ keys: string[] }>(`LIST ${mount}/certs`, () => this.client.list(`${mount}/certs`), { emptyListOn404: true });
    return body?.keys ?? [];
  }

  async auditDevices(): Promise<string[]> {
    // The devices are the keys of `data` (Vault repeats them at the top level for old clients).
    const data = await this.call<Record<string, unknown>>('GET sys/audit', () => this.client.read('sys/audit'));
    return Object.keys(data ?? {}).sort();
  }

  async roleExists(mount: string, role: string): Promise<boolean> {
    try {
      return (await this.call(`GET ${mount}/roles/${role}`, () => this.client.read(`${mount}/roles/${encodeURIComponent(role)}`))) !== undefined;
    } catch (error) {
      if ((error as { details?: { status?: number } }).details?.status === 404) return false;
      throw error;
    }
  }

  async readCertificate(mount: string, serialNumber: string): Promise<{ certificatePem: string; revocationTime: number } | undefined> {
    try {
      const data = await this.call<{ certificate: string; revocation_time?: number }>(`GET ${mount}/cert/${serialNumber}`, () =>
        // A serial is input (ledger items, events): one encoded path segment, so it can never name another path.
        this.client.read(`${mount}/cert/${encodeURIComponent(serialNumber)}`),
      );
      return data ? { certificatePem: data.certificate, revocationTime: data.revocation_time ?? 0 } : undefined;
    } catch (error) {
      if ((error as { details?: { status?: number } }).details?.status === 404) return undefined;
      throw error;
    }
  }

  async tidy(mount: string, flags: Record<string, boolean>): Promise<{ started: boolean; warnings: string[] }> {
    const { accepted, warnings } = await this.callWithWarnings(`POST ${mount}/tidy`, () => this.client.write(`${mount}/tidy`, flags), { accept202: true });
    // 202 means started; 200 means a tidy was already running (4.14).
    return { started: accepted, warnings };
  }

  async deleteIssuer(mount: string, ref: string): Promise<{ warnings: string[] }> {
    const path = `${mount}/issuer/${encodeURIComponent(ref)}`;
    // 200 with warnings (roles that name it) or 204; an unknown ref is success too (4.9).
    const { warnings } = await this.callWithWarnings(`DELETE ${path}`, () => this.client.delete(path));
    return { warnings };
  }

  async readAutoTidy(mount: string): Promise<AutoTidyConfig> {
    const data = required(
      await this.call<Record<string, unknown>>(`GET ${mount}/config/auto-tidy`, () => this.client.read(`${mount}/config/auto-tidy`)),
      `${mount}/config/auto-tidy`,
    );
    const seconds = (value: unknown) => (typeof value === 'number' ? value : Number(value ?? 0));
    return {
      enabled: data.enabled === true,
      intervalSeconds: seconds(data.interval_duration),
      tidyCertStore: data.tidy_cert_store === true,
      tidyRevokedCerts: data.tidy_revoked_certs === true,
      tidyRevokedCertIssuerAssociations: data.tidy_revoked_cert_issuer_associations === true,
      tidyExpiredIssuers: data.tidy_expired_issuers === true,
      safetyBufferSeconds: seconds(data.safety_buffer),
      issuerSafetyBufferSeconds: seconds(data.issuer_safety_buffer),
    };
  }

  async writeAutoTidy(mount: string, config: AutoTidyConfig): Promise<void> {
    await this.call(`POST ${mount}/config/auto-tidy`, () =>
      this.client.write(`${mount}/config/auto-tidy`, {
        enabled: config.enabled,
        interval_duration: `${config.intervalSeconds}s`,
        tidy_cert_store: config.tidyCertStore,
        tidy_revoked_certs: config.tidyRevokedCerts,
        tidy_revoked_cert_issuer_associations: config.tidyRevokedCertIssuerAssociations,
        tidy_expired_issuers: config.tidyExpiredIssuers,
        safety_buffer: `${config.safetyBufferSeconds}s`,
        issuer_safety_buffer: `${config.issuerSafetyBufferSeconds}s`,
      }),
    );
  }

  private async call<T>(operation: string, run: () => Promise<Envelope<T>>, options: CallOptions = {}): Promise<T | undefined> {
    return (await this.callWithWarnings(operation, run, options)).data;
  }

  /**
   * One authenticated call. A 403 with a cached token is retried once with a fresh login (the
   * token may have expired between invocations); a second 403 is a real permission problem.
   */
  private async callWithWarnings<T>(
    operation: string,
    run: () => Promise<Envelope<T>>,
    options: CallOptions = {},
  ): Promise<{ data: T | undefined; warnings: string[]; accepted: boolean }> {
    for (let attempt = 0; ; attempt += 1) {
      this.client.token = await this.tokens.token();
      try {
        const body = (await run()) ?? {};
        const warnings = body.warnings ?? [];
        // Warnings often carry the important part (a deleted default, an expired cert): log them (1.1).
        if (warnings.length > 0) this.log.warn('vault warnings', { operation, warnings });
        return { data: body.data, warnings, accepted: false };
      } catch (raw) {
        const status = vaultStatusOf(raw);
        // A LIST with zero keys is a 404 (1.2), not an error.
        if (status === 404 && options.emptyListOn404) return { data: undefined, warnings: [], accepted: false };
        // node-vault rejects every status but 200/204, so tidy's 202 Accepted arrives as a rejection (7).
        if (status === 202 && options.accept202) {
          const body = ((raw as { response?: { body?: Envelope<T> } }).response?.body ?? {}) as Envelope<T>;
          const warnings = body.warnings ?? [];
          if (warnings.length > 0) this.log.info('vault warnings', { operation, warnings });
          return { data: body.data, warnings, accepted: true };
        }
        const error = mapVaultError(raw, { operation, address: this.client.endpoint });
        if (error instanceof VaultPermissionError && attempt === 0) {
          this.tokens.invalidate();
          continue;
        }
        throw error;
      }
    }
  }
}

interface CallOptions {
  emptyListOn404?: boolean;
  accept202?: boolean;
}

interface RawIssuer {
  issuer_id: string;
  issuer_name?: string;
  key_id?: string;
  certificate: string;
  ca_chain?: string[];
  leaf_not_after_behavior?: LeafNotAfterBehavior;
  usage?: string | string[];
  revoked?: boolean;
}

interface RawLeaf {
  certificate: string;
  private_key?: string;
  issuing_ca: string;
  ca_chain?: string[];
  serial_number: string;
  expiration: number;
}

function required<T>(data: T | undefined, path: string): T {
  if (data === undefined || data === null) throw new InvalidInputError(`Vault returned no data for ${path}`);
  return data;
}

function toIssuer(raw: RawIssuer): IssuerDetails {
  const usage = Array.isArray(raw.usage) ? raw.usage : (raw.usage ?? '').split(',');
  return {
    issuerId: raw.issuer_id,
    issuerName: raw.issuer_name ?? '',
    keyId: raw.key_id ?? '',
    certificatePem: raw.certificate,
    caChainPem: raw.ca_chain ?? [raw.certificate],
    leafNotAfterBehavior: raw.leaf_not_after_behavior ?? 'err',
    usage: usage.map((entry) => entry.trim()).filter(Boolean).sort(),
    revoked: raw.revoked === true,
  };
}

function toLeaf(raw: RawLeaf): IssuedLeaf {
  return {
    certificatePem: raw.certificate,
    ...(raw.private_key ? { privateKeyPem: raw.private_key } : {}),
    issuingCaPem: raw.issuing_ca,
    caChainPem: raw.ca_chain ?? [raw.issuing_ca],
    serialNumber: raw.serial_number,
    expiration: Number(raw.expiration),
  };
}

function leafBody(request: LeafRequest): Record<string, unknown> {
  return {
    common_name: request.commonName,
    ...(request.altNames?.length ? { alt_names: request.altNames.join(',') } : {}),
    ...(request.ipSans?.length ? { ip_sans: request.ipSans.join(',') } : {}),
    ...(request.ttl ? { ttl: request.ttl } : {}),
    ...(request.keyType ? { key_type: request.keyType, key_bits: request.keyBits ?? (request.keyType === 'rsa' ? 2048 : 256) } : {}),
    format: 'pem',
    private_key_format: 'pkcs8',
  };
}
