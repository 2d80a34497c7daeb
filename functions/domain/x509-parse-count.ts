/**
 * The count of X.509 certificates parsed (cache misses of x509-facts' memo) since the module was
 * loaded. In its own module, so the handler kit can publish it without pulling the X.509
 * libraries into bundles that never parse a certificate.
 */
let parses = 0;

export function countX509Parse(): void {
  parses += 1;
}

export function x509ParseCount(): number {
  return parses;
}
