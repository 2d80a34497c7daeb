import { InvalidInputError } from '../contracts/errors';
import type { TargetKind } from '../contracts/targets';
import { X509Certificate } from 'node:crypto';
import { certificatesFromPem, pemBlocks, vaultSerial } from './x509-facts';

/**
 * What goes in a target's Secret, per kind, and where the certificate, chain and key are read
 * back from for verification. Files are bytes; PEM is joined with newlines.
 */
export interface IssuedMaterial {
  certificatePem: string;
  privateKeyPem: string;
  /** The issuing chain without the root (what a server sends after its leaf). */
  intermediatesPem: string[];
  rootPem: string;
}

export const SecretFiles = {
  'tls-secret': { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' },
  'cert-manager': { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' },
  // Istio's plug-in CA layout (istio-system/cacerts).
  'istio-cacerts': { cert: 'cert-chain.pem', key: 'ca-key.pem', ca: 'root-cert.pem' },
} as const satisfies Record<TargetKind, { cert: string; key: string; ca: string }>;

const pem = (blocks: string[]) => `${blocks.map((block) => block.trim()).join('\n')}\n`;

export function secretDataFor(kind: TargetKind, material: IssuedMaterial): Record<string, Buffer> {
  if (kind === 'istio-cacerts') {
    return {
      'ca-cert.pem': Buffer.from(pem([material.certificatePem])),
      'ca-key.pem': Buffer.from(pem([material.privateKeyPem])),
      'cert-chain.pem': Buffer.from(pem([material.certificatePem, ...material.intermediatesPem, material.rootPem])),
      'root-cert.pem': Buffer.from(pem([material.rootPem])),
    };
  }
  return {
    'tls.crt': Buffer.from(pem([material.certificatePem, ...material.intermediatesPem])),
    'tls.key': Buffer.from(pem([material.privateKeyPem])),
    'ca.crt': Buffer.from(pem([material.rootPem])),
  };
}

/** Splits Vault's ca_chain into the intermediates a server sends and the root (self-signed). */
export function splitChain(caChainPem: string[]): { intermediatesPem: string[]; rootPem: string } {
  const certs = caChainPem.flatMap((block, index) => certificatesFromPem(block, `ca_chain entry ${index + 1}`).map((facts) => ({ facts, block })));
  const roots = certs.filter(({ facts }) => facts.subjectKey === facts.issuerKey);
  const root = roots[roots.length - 1];
  if (!root) throw new InvalidInputError('the issuer chain Vault returned does not reach a root (import the intermediate with its chain, P2)');
  return {
    intermediatesPem: certs.filter((entry) => entry !== root).map(({ facts }) => facts.cert.toString()),
    rootPem: root.facts.cert.toString(),
  };
}

/** The served chain, key and CA of a target's Secret, as text, for the trust checker. */
export function materialFromSecret(kind: TargetKind, data: Record<string, Buffer>, where: string): { chainPem: string; keyPem: string; caPem: string } {
  const files = SecretFiles[kind];
  const read = (file: string) => {
    const bytes = data[file];
    if (!bytes || bytes.length === 0) throw new InvalidInputError(`${where} has no ${file}`);
    return bytes.toString('utf8');
  };
  return { chainPem: read(files.cert), keyPem: read(files.key), caPem: read(files.ca) };
}

/** Serial of the first certificate in a PEM text, or undefined when there is none. */
export function leafSerial(chainPem: string | undefined): string | undefined {
  if (!chainPem) return undefined;
  return certificatesFromPem(chainPem, 'certificate')[0]?.serial;
}

/**
 * Serial of the first certificate in a PEM text, read by Node's X.509 parser alone: for a Secret
 * about to be overwritten (RenewBatch records the serial it replaces), where nothing else of the
 * certificate is judged, the full parse `leafSerial` makes (pkijs and Node both) cost a
 * millisecond or more per target for one field. A certificate Node cannot read, or a serial it
 * prints as negative (not a form Vault issues), takes the full parse, which names the error.
 */
export function replacedLeafSerial(chainPem: string | undefined): string | undefined {
  if (!chainPem) return undefined;
  const block = pemBlocks(chainPem).find((entry) => entry.label === 'CERTIFICATE');
  if (!block) return undefined;
  let hex: string | undefined;
  try {
    hex = new X509Certificate(block.der).serialNumber;
  } catch {
    hex = undefined;
  }
  return hex && /^[0-9A-Fa-f]+$/.test(hex) ? vaultSerial(hex) : leafSerial(chainPem);
}
