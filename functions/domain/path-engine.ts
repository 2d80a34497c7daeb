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
  /** Signature verifications actually computed (memoized repeats are not counted). */
  signatureChecks: number;
  /** Issuer look-ups the path search made. */
  pathSteps: number;
  /** A limit was reached: the answer "no path" may be the budget's, not the PKI's. */
  exhausted: boolean;
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
    let valid = false;
    try {
      valid = await verify();
    } catch {
      valid = false;
    }
    this.memo.set(key, valid);
    return valid;
  }

  override async verifyWithPublicKey(
    data: BufferSource,
    signature: Parameters<pkijs.CryptoEngine['verifyWithPublicKey']>[1],
    publicKeyInfo: pkijs.PublicKeyInfo,
    signatureAlgorithm: pkijs.AlgorithmIdentifier,
    shaAlgorithm?: string,
  ): Promise<boolean> {
    const key = createHash('sha256')
      .update(bytesOf(data))
      .update(signature.valueBlock.valueHexView)
      .update(new Uint8Array(publicKeyInfo.toSchema().toBER()))
      .digest('hex');
    return this.counted(key, () => super.verifyWithPublicKey(data, signature, publicKeyInfo, signatureAlgorithm, shaAlgorithm));
  }
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
