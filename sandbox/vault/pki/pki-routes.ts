import type { RouteModule } from '../router';
import { MountRegistry } from './pki-mount-registry';
import { parseDurationSeconds } from './pki-values';
import { certCrlRoutes } from './routes-certs-crl';
import { generateRoutes } from './routes-generate';
import { importRoutes } from './routes-import';
import { issueSignRoutes } from './routes-issue-sign';
import { issuerRoutes } from './routes-issuers';
import { keyRoutes } from './routes-keys';
import { mountRoutes } from './routes-mounts';
import { revokeRoutes } from './routes-revoke';
import { roleRoutes } from './routes-roles';
import { tidyRoutes } from './routes-tidy';

/**
 * The PKI secrets engine of the Vault emulator (VAULT_API.md 4) as one route module, plus
 * `sys/mounts` to enable engines over HTTP. Enable it with
 * `startVaultCluster({ routes: [createPkiRoutes({ mounts: ['pki_root', 'pki_int'] })] })`
 * or `handle.registerRoutes(createPkiRoutes())` and `POST sys/mounts/pki_int {type: 'pki'}`.
 */

export interface PkiRoutesOptions {
  /** PKI mounts that exist from the start (one path segment each). @default none */
  readonly mounts?: readonly string[];
  /** max_lease_ttl of those mounts, seconds or a duration. @default '87600h' (10 years: a root fits) */
  readonly maxLeaseTtl?: string | number;
  /** Serve `sys/mounts` (enable, list, tune, disable). @default true */
  readonly sysMounts?: boolean;
}

export function createPkiRoutes(options: PkiRoutesOptions = {}): RouteModule {
  return (cluster) => {
    const mounts = new MountRegistry(cluster.storage.now);
    const maxLeaseTtlSeconds = parseDurationSeconds(options.maxLeaseTtl ?? '87600h') ?? 87600 * 3600;
    for (const name of options.mounts ?? []) mounts.enable(name, 'pki', { maxLeaseTtlSeconds });
    const env = { mounts };
    return [
      ...(options.sysMounts === false ? [] : mountRoutes(env)),
      ...generateRoutes(env),
      ...importRoutes(env),
      ...issuerRoutes(env),
      ...keyRoutes(env),
      ...roleRoutes(env),
      ...issueSignRoutes(env),
      ...certCrlRoutes(env),
      ...revokeRoutes(env),
      ...tidyRoutes(env),
    ];
  };
}
