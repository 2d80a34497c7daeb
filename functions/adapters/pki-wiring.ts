import { PkiEnvNames, EnvNames, pkiSettingsFrom, type Env, type PkiEnv, type PkiSettings } from '../contracts/env';
import type { VaultPki } from '../ports/vault-pki';
import type { Clock } from '../ports/clock';
import type { Log } from '../ports/log';
import { createVaultClient } from './vault/vault-client';
import { NodeVaultPki } from './vault/node-vault-pki';
import { tokenProviderFromEnv } from './vault/token-provider-from-env';

/** What the PKI steps need, built once per cold start from the parsed environment. */
export interface PkiAdapters {
  pki: VaultPki;
  settings: PkiSettings;
}

export function buildPkiAdapters(pkiEnv: PkiEnv, env: Env, clock: Clock, log: Log): PkiAdapters {
  const caPem = pkiEnv[EnvNames.VaultCaPem];
  const client = createVaultClient({ endpoint: pkiEnv[PkiEnvNames.VaultAddress], caPem, timeoutMs: pkiEnv[EnvNames.VaultTimeoutMs] });
  const tokens = tokenProviderFromEnv(pkiEnv[PkiEnvNames.VaultAuth], client, env, clock);
  return { pki: new NodeVaultPki(client, tokens, log), settings: pkiSettingsFrom(pkiEnv) };
}
