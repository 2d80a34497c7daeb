import type NodeVault = require('node-vault');
import type { HealthState, InitResult, SealStatus, VaultSys } from '../../ports/vault-sys';
import { InvalidInputError } from '../../contracts/errors';
import { mapVaultError } from './vault-errors';

/** The bare body of `sys/seal-status` and `sys/unseal` (VAULT_API.md 2.1: no envelope). */
interface RawSealStatus {
  type?: string;
  initialized?: boolean;
  sealed?: boolean;
  t?: number;
  n?: number;
  progress?: number;
  nonce?: string;
  version?: string;
  migration?: boolean;
  recovery_seal?: boolean;
  cluster_id?: string;
}

function toSealStatus(raw: unknown, address: string): SealStatus {
  const body = raw as RawSealStatus | undefined;
  if (!body || typeof body.sealed !== 'boolean' || typeof body.initialized !== 'boolean') {
    // A proxy page or a non-Vault server: never guess a seal state from it (I7).
    throw new InvalidInputError(`sys/seal-status on ${address} did not return a Vault seal status`, { details: { address } });
  }
  return {
    type: body.type ?? 'shamir',
    initialized: body.initialized,
    sealed: body.sealed,
    t: body.t ?? 0,
    n: body.n ?? 0,
    progress: body.progress ?? 0,
    nonce: body.nonce ?? '',
    version: body.version ?? '',
    migration: body.migration ?? false,
    recoverySeal: body.recovery_seal ?? false,
    ...(body.cluster_id ? { clusterId: body.cluster_id } : {}),
  };
}

/** VaultSys over node-vault, bound to one node's own address (never the load balancer, P7). */
export class NodeVaultSys implements VaultSys {
  constructor(
    private readonly client: NodeVault.client,
    readonly nodeUrl: string,
  ) {}

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw mapVaultError(error, { operation, address: this.nodeUrl });
    }
  }

  async sealStatus(): Promise<SealStatus> {
    return toSealStatus(await this.call('sys/seal-status', () => this.client.status()), this.nodeUrl);
  }

  async submitShare(share: string): Promise<SealStatus> {
    return toSealStatus(await this.call('sys/unseal', () => this.client.unseal({ key: share })), this.nodeUrl);
  }

  async resetProgress(): Promise<SealStatus> {
    return toSealStatus(await this.call('sys/unseal (reset)', () => this.client.unseal({ reset: true })), this.nodeUrl);
  }

  async initialize(request: { shares: number; threshold: number; recovery: boolean }): Promise<InitResult> {
    // node-vault's init() schema drops recovery_* fields, so an awskms Vault is initialized
    // with a plain write to sys/init (VAULT_API.md 7).
    const body = request.recovery
      ? { recovery_shares: request.shares, recovery_threshold: request.threshold }
      : { secret_shares: request.shares, secret_threshold: request.threshold };
    const raw = (await this.call('sys/init', () => this.client.write('sys/init', body))) as {
      keys?: string[];
      recovery_keys?: string[];
      root_token?: string;
    };
    const shares = request.recovery ? raw.recovery_keys : raw.keys;
    if (!Array.isArray(shares) || shares.length !== request.shares || typeof raw.root_token !== 'string') {
      throw new InvalidInputError(`sys/init on ${this.nodeUrl} returned an unexpected body`, { details: { address: this.nodeUrl } });
    }
    return { shares, rootToken: raw.root_token };
  }

  async health(): Promise<{ state: HealthState; initialized: boolean; sealed: boolean; standby: boolean }> {
    // node-vault resolves every sys/health answer and drops the status code (P10), so the state
    // is derived from the body's flags instead.
    const body = (await this.call('sys/health', () => this.client.request({ path: '/sys/health', method: 'GET' }))) as {
      initialized?: boolean;
      sealed?: boolean;
      standby?: boolean;
      performance_standby?: boolean;
      replication_dr_mode?: string;
    };
    const initialized = body.initialized === true;
    const sealed = body.sealed !== false;
    const standby = body.standby === true;
    let state: HealthState = 'active';
    if (!initialized) state = 'uninitialized';
    else if (sealed) state = 'sealed';
    else if (body.replication_dr_mode === 'secondary') state = 'dr-secondary';
    else if (body.performance_standby) state = 'performance-standby';
    else if (standby) state = 'standby';
    return { state, initialized, sealed, standby };
  }
}
