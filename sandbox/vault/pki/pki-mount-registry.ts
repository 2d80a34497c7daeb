import { randomBytes, randomUUID } from 'node:crypto';
import { VaultApiError } from '../envelope';
import { type MountConfig, PkiMount, SYSTEM_DEFAULT_LEASE_TTL, SYSTEM_MAX_LEASE_TTL } from './pki-mount-state';

/**
 * The secrets engines mounted on one emulated cluster (`sys/mounts`). Only `pki` mounts get
 * behaviour; other types are recorded so `sys/mounts` answers like Vault. Mount paths are one
 * path segment here (`pki_int`, not `pki/int`): the route patterns use `:mount`.
 */

export interface MountEntry {
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly accessor: string;
  readonly uuid: string;
  readonly pki?: PkiMount;
}

/** Paths Vault reserves for itself or that the emulator's other routes own. */
const RESERVED = new Set(['sys', 'auth', 'identity', 'cubbyhole', 'v1']);

export class MountRegistry {
  private readonly entries = new Map<string, MountEntry>();

  constructor(private readonly now: () => Date) {}

  /** Mounts a secrets engine; 400 `path is already in use at <path>/` like Vault when taken. */
  enable(path: string, type: string, config: Partial<MountConfig> = {}, description = ''): MountEntry {
    const clean = path.replace(/^\/+|\/+$/g, '');
    if (clean === '' || clean.includes('/')) throw new VaultApiError(400, `invalid mount path ${JSON.stringify(path)}: the emulator mounts engines at one path segment`);
    if (RESERVED.has(clean)) throw new VaultApiError(400, `cannot mount '${clean}/' of type '${type}': reserved path`);
    if (this.entries.has(clean)) throw new VaultApiError(400, `path is already in use at ${clean}/`);
    const accessor = `${type}_${randomBytes(4).toString('hex')}`;
    const pki =
      type === 'pki'
        ? new PkiMount(
            clean,
            {
              defaultLeaseTtlSeconds: config.defaultLeaseTtlSeconds || SYSTEM_DEFAULT_LEASE_TTL,
              maxLeaseTtlSeconds: config.maxLeaseTtlSeconds || SYSTEM_MAX_LEASE_TTL,
            },
            this.now,
          )
        : undefined;
    const entry: MountEntry = { path: clean, type, description, accessor, uuid: randomUUID(), ...(pki ? { pki } : {}) };
    this.entries.set(clean, entry);
    return entry;
  }

  disable(path: string): void {
    this.entries.delete(path.replace(/^\/+|\/+$/g, ''));
  }

  get(path: string): MountEntry | undefined {
    return this.entries.get(path);
  }

  /** The PKI state of a mount; route guards make sure it exists before a handler runs. */
  pki(path: string | undefined): PkiMount {
    const mount = path === undefined ? undefined : this.entries.get(path)?.pki;
    if (!mount) throw new VaultApiError(404);
    return mount;
  }

  isPki(path: string | undefined): boolean {
    return path !== undefined && this.entries.get(path)?.pki !== undefined;
  }

  list(): MountEntry[] {
    return [...this.entries.values()];
  }
}
