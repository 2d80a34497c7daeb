/**
 * Words for a failed path: pkijs' result codes mapped to reasons, and which certificate is to
 * blame, found by walking names from the leaf up. The verdict is the engine's; this only says it.
 */
import { isAnchor, role, sameCert, signs, TrustReasons, type CertNode, type Failure, type TrustSnapshot } from './trust-verdict';

/**
 * The engine's certificates by name from the leaf upwards (served first, then trusted), for the
 * words of a failure only: the verdict is the engine's. Bounded by the number of certificates.
 */
function nameWalk(s: TrustSnapshot): CertNode[] {
  const walk: CertNode[] = [s.leaf];
  const pool = [...s.intermediates, ...s.anchors];
  for (;;) {
    const tip = walk[walk.length - 1] as CertNode;
    if (tip !== s.leaf && isAnchor(s, tip)) break;
    if (tip !== s.leaf && tip.facts.subjectKey === tip.facts.issuerKey) break;
    const next = pool.find((c) => c.facts.subjectKey === tip.facts.issuerKey && !walk.some((w) => sameCert(w.facts, c.facts)));
    if (!next) break;
    walk.push(next);
  }
  return walk;
}

/** pkijs result codes (CertificateChainValidationEngine) mapped to reasons, with words from the name walk. */
export async function explainEngineFailure(s: TrustSnapshot, code: number, message: string): Promise<Failure> {
  const walk = nameWalk(s);
  if (code === 8) {
    const now = s.now.getTime();
    for (const node of walk) {
      const { notBefore, notAfter, subject } = node.facts;
      if (now < notBefore.getTime()) {
        return { reason: TrustReasons.NotYetValid, detail: `the ${role(s, node)} ${subject} is not valid before ${notBefore.toISOString()} (now is ${s.now.toISOString()})` };
      }
      if (now > notAfter.getTime()) {
        return { reason: TrustReasons.Expired, detail: `the ${role(s, node)} ${subject} expired at ${notAfter.toISOString()} (now is ${s.now.toISOString()})` };
      }
    }
    return { reason: TrustReasons.Expired, detail: `a certificate of the path is outside its validity at ${s.now.toISOString()}` };
  }
  if ([3, 4, 7, 13, 14].includes(code)) {
    for (const [index, node] of walk.entries()) {
      if (index === 0) continue;
      const signed = (walk[index - 1] as CertNode).facts.subject;
      const what = `the ${role(s, node)} ${node.facts.subject}`;
      if (node.facts.basicConstraints?.ca !== true) return { reason: TrustReasons.WrongKeyUsage, detail: `${what} signed ${signed} but is not a CA (basicConstraints CA:true is missing)` };
      if (node.facts.keyUsage && !node.facts.keyUsage.includes('keyCertSign')) {
        return { reason: TrustReasons.WrongKeyUsage, detail: `${what} signed ${signed} but its key usage (${node.facts.keyUsage.join(', ')}) lacks keyCertSign` };
      }
    }
    return { reason: TrustReasons.WrongKeyUsage, detail: `a certificate of the path may not sign: ${message}` };
  }
  if (code === 41 || code === 42 || code === 21) {
    return { reason: TrustReasons.NameConstraintViolation, detail: `a name of ${s.leaf.facts.subject} or of an intermediate is outside the name constraints of a CA on its path: ${message}` };
  }
  if (code === 6) return { reason: TrustReasons.UnhandledCriticalExtension, detail: message };
  return explainMissingPath(s, walk, message);
}

/** No path: say why, from what the server sent and the bundle holds. */
async function explainMissingPath(s: TrustSnapshot, walk: CertNode[], message: string): Promise<Failure> {
  const end = walk[walk.length - 1] as CertNode;
  const trusted = s.anchors.slice(0, 3).map((a) => a.facts.subject).join('; ') + (s.anchors.length > 3 ? `; and ${s.anchors.length - 3} more` : '');
  const namesake = walk[1];
  if (namesake && !isAnchor(s, namesake) && !(await signs(s, namesake, s.leaf))) {
    return {
      reason: TrustReasons.MissingIntermediate,
      detail: `the leaf's issuer ${s.leaf.facts.issuer} is not in the trust bundle (it trusts ${trusted}), and the server sends a certificate of that name, but not the one whose key signed the leaf (an old intermediate?)`,
    };
  }
  if (end !== s.leaf && isAnchor(s, end)) {
    return {
      reason: TrustReasons.UnknownIssuer,
      detail: `${(walk[walk.length - 2] as CertNode).facts.subject} names ${end.facts.subject} as its issuer, and the trust bundle holds a certificate of that name, but no path through it validates (a different CA with the same name?): ${message}`,
    };
  }
  if (end !== s.leaf && end.facts.subjectKey === end.facts.issuerKey) {
    return { reason: TrustReasons.UnknownIssuer, detail: `the served chain ends at the self-signed ${end.facts.subject}, which the trust bundle does not hold (it trusts ${trusted})` };
  }
  if (end === s.leaf) {
    return {
      reason: TrustReasons.MissingIntermediate,
      detail: `the leaf's issuer ${s.leaf.facts.issuer} is neither in the served chain nor in the trust bundle (it trusts ${trusted}): the server must send the intermediate with its leaf`,
    };
  }
  return { reason: TrustReasons.UnknownIssuer, detail: `the served chain ends at ${end.facts.subject}, issued by ${end.facts.issuer}, which the trust bundle does not hold (it trusts ${trusted})` };
}
