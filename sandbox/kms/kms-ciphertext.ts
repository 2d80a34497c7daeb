import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The sandbox's CiphertextBlob: real AES-256-GCM, laid out as
 *
 *   version (1 byte) | key id length (1 byte) | key id (UTF-8) | IV (12) | tag (16) | ciphertext
 *
 * The key id travels in the blob because KMS's Decrypt works without a KeyId for symmetric keys.
 * The header and the canonical encryption context are the GCM additional authenticated data, so
 * a changed key id, a tampered byte, or any difference in the context fails authentication:
 * the same InvalidCiphertextException, with no hint of which, that real KMS gives (VAULT_API.md P11).
 */
const formatVersion = 0x01;
const ivBytes = 12;
const tagBytes = 16;

export type EncryptionContext = Readonly<Record<string, string>>;

/**
 * Sorted keys make the AAD independent of the order a client serialized the map in, as KMS's
 * is; everything else (case, missing or extra pairs, values) stays significant.
 */
export function canonicalContext(context: EncryptionContext): Buffer {
  const pairs = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

function header(keyId: string): Buffer {
  const id = Buffer.from(keyId, 'utf8');
  return Buffer.concat([Buffer.from([formatVersion, id.length]), id]);
}

export function sealCiphertext(input: { keyId: string; material: Buffer; plaintext: Uint8Array; context: EncryptionContext }): Buffer {
  const iv = randomBytes(ivBytes);
  const head = header(input.keyId);
  const cipher = createCipheriv('aes-256-gcm', input.material, iv);
  cipher.setAAD(Buffer.concat([head, canonicalContext(input.context)]));
  const body = Buffer.concat([cipher.update(input.plaintext), cipher.final()]);
  return Buffer.concat([head, iv, cipher.getAuthTag(), body]);
}

/** The key id a blob claims to be encrypted under, or undefined when the blob is not one of ours. */
export function ciphertextKeyId(blob: Buffer): string | undefined {
  if (blob.length < 2 || blob[0] !== formatVersion) return undefined;
  const idLength = blob[1]!;
  if (blob.length < 2 + idLength + ivBytes + tagBytes) return undefined;
  return blob.subarray(2, 2 + idLength).toString('utf8');
}

/** The plaintext, or undefined when authentication fails (tampering, wrong key or context). */
export function openCiphertext(input: { blob: Buffer; material: Buffer; context: EncryptionContext }): Buffer | undefined {
  const keyId = ciphertextKeyId(input.blob);
  if (keyId === undefined) return undefined;
  const headLength = 2 + input.blob[1]!;
  const iv = input.blob.subarray(headLength, headLength + ivBytes);
  const tag = input.blob.subarray(headLength + ivBytes, headLength + ivBytes + tagBytes);
  const body = input.blob.subarray(headLength + ivBytes + tagBytes);
  try {
    const decipher = createDecipheriv('aes-256-gcm', input.material, iv);
    decipher.setAAD(Buffer.concat([input.blob.subarray(0, headLength), canonicalContext(input.context)]));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return undefined;
  }
}
