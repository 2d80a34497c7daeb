import { certificatesFromPem, type CertFacts } from './x509-facts';
import { IntermediateInvalidError } from '../contracts/errors';

/**
 * Verifies a freshly signed intermediate before it may become default (DESIGN.md Rotation step 4):
 * it is a CA, its signature verifies with the root's key, it chains to that root, and Vault did not
 * silently truncate it below what its leaves need (VAULT_API.md P4).
 */
export interface IntermediateCheckInput {
  intermediatePem: string;
  rootPem: string;
  /** The issuer's ca_chain as the mount reports it: must start with the intermediate and reach the root. */
  caChainPem: string[];
  now: Date;
  /** The intermediate must outlive now + this (leaf max TTL + renewBefore + rotation period). */
  minimumLifeSeconds: number;
}

export function checkIntermediate(input: IntermediateCheckInput): CertFacts {
  const [intermediate] = certificatesFromPem(input.intermediatePem, 'new intermediate');
  const [root] = certificatesFromPem(input.rootPem, 'root');
  if (!intermediate || !root) throw new IntermediateInvalidError('the new intermediate or the root is missing');
  if (!intermediate.basicConstraints?.ca) throw new IntermediateInvalidError(`${intermediate.subject} is not a CA certificate`);
  if (!intermediate.cert.verify(root.cert.publicKey) || intermediate.issuerKey !== root.subjectKey) {
    throw new IntermediateInvalidError(`${intermediate.subject} is not signed by the root ${root.subject}`);
  }
  const chain = input.caChainPem.flatMap((pem, index) => certificatesFromPem(pem, `ca_chain entry ${index + 1}`));
  if (chain[0]?.fingerprint256 !== intermediate.fingerprint256 || !chain.some((cert) => cert.fingerprint256 === root.fingerprint256)) {
    throw new IntermediateInvalidError('the mount does not know the chain from the new intermediate to the root (import it with its chain, P2)');
  }
  const needed = new Date(input.now.getTime() + input.minimumLifeSeconds * 1000);
  if (intermediate.notAfter < needed) {
    throw new IntermediateInvalidError(
      `the new intermediate expires ${intermediate.notAfter.toISOString()}, before ${needed.toISOString()}: it was truncated (root expiry?) and could not carry a full leaf`,
      { details: { notAfter: intermediate.notAfter.toISOString(), needed: needed.toISOString() } },
    );
  }
  return intermediate;
}
