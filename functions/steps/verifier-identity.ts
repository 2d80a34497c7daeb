import type { VaultPki } from '../ports/vault-pki';
import type { Clock } from '../ports/clock';
import type { PkiSettings } from '../contracts/env';
import type { VerifierIdentity } from './verify-batch';

/**
 * certflow's client identity for the mTLS handshakes: a short-lived client certificate issued by
 * Vault for `certflow-verifier.<namespace>.svc`, made on first use and reused while it has more
 * than half of its life left. Nothing is stored: a cold start issues a new one.
 */
export function verifierIdentity(pki: VaultPki, settings: PkiSettings, namespace: string, clock: Clock): () => Promise<VerifierIdentity> {
  let cached: { identity: VerifierIdentity; renewAt: number } | undefined;
  return async () => {
    if (cached && cached.renewAt > clock.now().getTime()) return cached.identity;
    const leaf = await pki.issueLeaf(settings.intermediateMount, settings.role, {
      commonName: `certflow-verifier.${namespace}.svc`,
      ttl: '3600s',
      keyType: 'ec',
      keyBits: 256,
    });
    const identity = { certificatePem: [leaf.certificatePem, ...leaf.caChainPem.slice(0, -1)].join('\n'), keyPem: leaf.privateKeyPem ?? '' };
    cached = { identity, renewAt: clock.now().getTime() + 30 * 60_000 };
    return identity;
  };
}
