import { contentCache, ContentCacheLimits } from './content-cache';
import { certificatesFromPem } from './x509-facts';

/**
 * VerifyBatch asks for the roots of its namespace's bundle for every target: each bundle's
 * self-signatures are checked once per warm function, not once per target.
 */
const rootsByBundle = contentCache<string>(ContentCacheLimits.bundles);

/**
 * The self-signed roots of a trust bundle, PEM, or the whole bundle when it holds none. Judging a
 * served chain against the roots alone asks what a peer that trusts only the root needs: the
 * server must send its intermediate itself, rather than lean on the namespace bundle carrying
 * it, and the intermediate is then judged on its root's CRL instead of being trusted outright.
 */
export function rootsOf(bundle: string): string {
  const known = rootsByBundle.get(bundle);
  if (known !== undefined) return known;
  const roots = certificatesFromPem(bundle, 'trust bundle').filter((cert) => cert.subjectKey === cert.issuerKey && cert.cert.verify(cert.cert.publicKey));
  const text = roots.length ? roots.map((root) => root.cert.toString().trim()).join('\n') : bundle;
  rootsByBundle.set(bundle, text);
  return text;
}
