/**
 * DNS name constraints, name by name. pkijs' engine accepts a certificate when *any one* of its
 * DNS SANs falls in a permitted subtree (found by the differential test: a leaf for
 * `svc.good.internal` and `evil.example.com` under `permitted DNS:good.internal` passes pkijs and
 * fails `openssl verify` with "permitted subtree violation"). RFC 5280 4.2.1.10 and OpenSSL
 * require *every* name to be permitted, so this check runs after the engine on the path it
 * found, over what pkijs parsed; it is the one rule certflow spells out itself, and goes away
 * when pkijs applies it per name.
 */
import type * as pkijs from 'pkijs';

const NAME_CONSTRAINTS = '2.5.29.30';
const SUBJECT_ALT_NAME = '2.5.29.17';
const DNS_NAME = 2;

/** RFC 5280 4.2.1.10: `example.com` covers itself and every name below it; `.example.com` only names below it. */
function within(name: string, constraint: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const c = constraint.toLowerCase();
  if (c.startsWith('.')) return n.endsWith(c);
  return n === c || n.endsWith(`.${c}`);
}

function dnsSubtrees(subtrees: pkijs.GeneralSubtree[] | undefined): string[] {
  return (subtrees ?? []).filter((subtree) => subtree.base.type === DNS_NAME).map((subtree) => String(subtree.base.value));
}

function dnsNames(cert: pkijs.Certificate): string[] {
  const san = cert.extensions?.find((ext) => ext.extnID === SUBJECT_ALT_NAME)?.parsedValue as pkijs.AltName | undefined;
  return (san?.altNames ?? []).filter((name) => name.type === DNS_NAME).map((name) => String(name.value));
}

function selfIssued(cert: pkijs.Certificate): boolean {
  return cert.subject.isEqual(cert.issuer);
}

/**
 * The first DNS name on the path (leaf first) that a CA above it does not permit or excludes, or
 * undefined. `path` runs leaf -> anchor; the anchor's constraints count too, as in OpenSSL.
 */
export function dnsConstraintViolation(path: readonly pkijs.Certificate[]): { name: string; ca: number; rule: 'permitted' | 'excluded'; constraint: string } | undefined {
  for (let ca = 1; ca < path.length; ca++) {
    const constraints = (path[ca] as pkijs.Certificate).extensions?.find((ext) => ext.extnID === NAME_CONSTRAINTS)?.parsedValue as pkijs.NameConstraints | undefined;
    if (!constraints) continue;
    const permitted = dnsSubtrees(constraints.permittedSubtrees);
    const excluded = dnsSubtrees(constraints.excludedSubtrees);
    for (let below = 0; below < ca; below++) {
      const cert = path[below] as pkijs.Certificate;
      // RFC 5280 6.1.3 (b): self-issued intermediates are exempt; the leaf never is.
      if (below > 0 && selfIssued(cert)) continue;
      for (const name of dnsNames(cert)) {
        const barred = excluded.find((constraint) => within(name, constraint));
        if (barred) return { name, ca, rule: 'excluded', constraint: barred };
        if (permitted.length && !permitted.some((constraint) => within(name, constraint))) return { name, ca, rule: 'permitted', constraint: permitted.join(', ') };
      }
    }
  }
  return undefined;
}
