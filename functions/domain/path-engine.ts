/**
 * Path building and RFC 5280 validation by pkijs' `CertificateChainValidationEngine`, inside a
 * fixed budget. The engine builds every candidate path depth-first, asking `findIssuer` for the
 * issuers of each certificate; left alone, a served chain of self-issued look-alikes makes that
 * search grow about 4x per certificate (issue 12: n=9 took 15.6 s) and a cycle never ends. So:
 *
 *  - every signature check goes through `BudgetedCrypto`, which memoizes by (data, signature, key)
 *    and stops verifying (answers false) once `MAX_SIGNATURE_CHECKS` real checks are spent;
 *  - every issuer look-up goes through a memoized `findIssuer` that stops after `MAX_PATH_STEPS`.
 *
 * Either limit ends the search with "no path" and `exhausted` set, which the checker reports as
 * PathBudgetExceeded. Real PKIs use a handful of checks (leaf, intermediate, two CRLs).
 */
import { createHash, webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

/** Generous for rotations (a bundle with a root and two intermediates needs 2-5) and fixed for any input. */
export const MAX_SIGNATURE_CHECKS = 64;
export const MAX_PATH_STEPS = 32;

export interface PathWork {
  /** Signature checks this search made (a repeat within it is not counted; a verdict remembered from an earlier search is). */
  signatureChecks: number;
  /** Issuer look-ups the path search made. */
  pathSteps: number;
  /** A limit was reached: the answer "no path" may be the budget's, not the PKI's. */
  exhausted: boolean;
}

/**
 * Verdicts of signature checks already computed in this process, by the same (data, signature,
 * key, algorithm) digest as the per-check memo. A verdict is a fact about those bytes alone, so a
 * warm Lambda that judges a thousand leaves under one intermediate and two CRLs verifies the
 * intermediate's signature and each CRL's once, not once per leaf (issue 16 item 5). The budget
 * is untouched: a remembered verdict is still counted as a check of this path search. Bounded as
 * the parsed certificates are (x509-facts.ts): the oldest half goes when it is full.
 */
const VERDICTS_CAPACITY = 4096;
const verdicts = new Map<string, boolean>();
let computedSignatureChecks = 0;

/** Signature verifications this process actually computed (not remembered): what a test counts. */
export function signatureChecksComputed(): number {
  return computedSignatureChecks;
}

function remember(key: string, valid: boolean): void {
  if (verdicts.size >= VERDICTS_CAPACITY) for (const oldest of [...verdicts.keys()].slice(0, VERDICTS_CAPACITY / 2)) verdicts.delete(oldest);
  verdicts.set(key, valid);
}

export class BudgetedCrypto extends pkijs.CryptoEngine {
  readonly work: PathWork = { signatureChecks: 0, pathSteps: 0, exhausted: false };
  private readonly memo = new Map<string, boolean>();

  constructor() {
    super({ name: 'certflow-budgeted', crypto: webcrypto as unknown as Crypto });
  }

  /**
   * One signature check done by another library (a CRL through @peculiar/x509), under the same
   * memo and budget; `key` identifies the (data, signature, public key) triple.
   */
  async counted(key: string, verify: () => Promise<boolean>): Promise<boolean> {
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    if (this.work.signatureChecks >= MAX_SIGNATURE_CHECKS) {
      this.work.exhausted = true;
      return false;
    }
    this.work.signatureChecks += 1;
    const remembered = verdicts.get(key);
    if (remembered !== undefined) {
      this.memo.set(key, remembered);
      return remembered;
    }
    let valid = false;
    let settled = true;
    try {
      valid = await verify();
    } catch {
      // An exception is not a verdict on the bytes (it may be the engine's): not remembered.
      valid = false;
      settled = false;
    }
    computedSignatureChecks += 1;
    this.memo.set(key, valid);
    if (settled) remember(key, valid);
    return valid;
  }

  override async verifyWithPublicKey(
    data: BufferSource,
    signature: Parameters<pkijs.CryptoEngine['verifyWithPublicKey']>[1],
    publicKeyInfo: pkijs.PublicKeyInfo,
    signatureAlgorithm: pkijs.AlgorithmIdentifier,
    shaAlgorithm?: string,
  ): Promise<boolean> {
    const key = verdictKey([
      bytesOf(data),
      signature.valueBlock.valueHexView,
      new Uint8Array(publicKeyInfo.toSchema().toBER()),
      // The outer signature algorithm is not signed: two certificates differing only there must not share a verdict.
      new Uint8Array(signatureAlgorithm.toSchema().toBER()),
      new TextEncoder().encode(shaAlgorithm ?? ''),
    ]);
    return this.counted(key, () => super.verifyWithPublicKey(data, signature, publicKeyInfo, signatureAlgorithm, shaAlgorithm));
  }
}

/**
 * The digest a verdict is remembered by. Each part is preceded by its length: without it, the bytes
 * of one check (data, then signature) could be split differently by a crafted certificate (a longer
 * to-be-signed part, a shorter signature) into the same digest, and borrow a verdict computed for
 * genuine bytes.
 */
function verdictKey(parts: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(part.byteLength));
    hash.update(length).update(part);
  }
  return hash.digest('hex');
}

function bytesOf(data: BufferSource): Uint8Array {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export interface EngineInput {
  leaf: pkijs.Certificate;
  intermediates: pkijs.Certificate[];
  anchors: pkijs.Certificate[];
  now: Date;
  crypto: BudgetedCrypto;
  permitted?: pkijs.GeneralSubtree[];
  excluded?: pkijs.GeneralSubtree[];
}

export type EngineResult = { ok: true; path: pkijs.Certificate[] } | { ok: false; code: number; message: string };

/** One run of the engine: the path leaf -> anchor, or the engine's failure code and message. */
export async function runEngine(input: EngineInput): Promise<EngineResult> {
  const issuers = new Map<pkijs.Certificate, Promise<pkijs.Certificate[]>>();
  const { crypto } = input;
  const findIssuer: pkijs.FindIssuerCallback = (certificate, engine) => {
    // Every look-up counts, memoized or not: the engine's search has no visited set, so a cycle
    // of look-alikes would otherwise recurse through the memo forever.
    crypto.work.pathSteps += 1;
    if (crypto.work.exhausted || crypto.work.pathSteps > MAX_PATH_STEPS) {
      crypto.work.exhausted = true;
      return Promise.resolve([]);
    }
    const known = issuers.get(certificate);
    if (known) return known;
    // pkijs takes an issuer whose key identifier matches without comparing names, so two CAs that
    // share a key but not a name would each issue the other and the search would cycle; RFC 5280
    // 6.1 chains by name, as OpenSSL does. Self-signed answers (the certificate itself) stay.
    const found = engine
      .defaultFindIssuer(certificate, engine, crypto)
      .then((candidates) => candidates.filter((candidate) => candidate === certificate || candidate.subject.isEqual(certificate.issuer)));
    issuers.set(certificate, found);
    return found;
  };
  // The engine takes the leaf as the last of `certs`.
  const certs = [...input.intermediates.filter((cert) => cert !== input.leaf), input.leaf];
  const engine = new pkijs.CertificateChainValidationEngine({ trustedCerts: input.anchors, certs, checkDate: input.now, findIssuer });
  const result = await engine.verify(
    { ...(input.permitted ? { initialPermittedSubtreesSet: input.permitted } : {}), ...(input.excluded ? { initialExcludedSubtreesSet: input.excluded } : {}) },
    crypto,
  );
  if (result.result && result.certificatePath) return { ok: true, path: result.certificatePath };
  return { ok: false, code: result.resultCode ?? -1, message: result.resultMessage ?? 'the engine found no valid path' };
}
