import type { VaultPki } from '../ports/vault-pki';

/**
 * The CRL of every issuer on the given mounts, PEM, as the trust checker takes them. Each issuer
 * signs its own CRL (VAULT_API.md 4.13, P13), so a leaf of a retiring intermediate is found on
 * that intermediate's CRL and an intermediate on its root's; reading them all once per batch lets
 * VerifyBatch demand a current CRL for every certificate below the root (`-crl_check_all`).
 */
export async function issuerCrls(pki: VaultPki, mounts: readonly string[]): Promise<string[]> {
  const crls: string[] = [];
  for (const mount of mounts) {
    for (const issuer of await pki.listIssuers(mount)) {
      // An issuer imported without its key (the root's certificate on the intermediate mount,
      // VAULT_API.md 4.6) signs no CRL: its own mount's issuer does.
      if (!issuer.keyId) continue;
      const crl = await pki.issuerCrl(mount, issuer.issuerId);
      if (crl.trim()) crls.push(crl);
    }
  }
  return crls;
}
