import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM sealing of what the emulated Vault keeps in "storage". As in Vault, nothing tells a
 * wrong key from a right one except the GCM tag: a wrong combined Shamir key fails here with the
 * very words Go's crypto/cipher uses (VAULT_API.md 2.2, hashicorp/vault#8425).
 */

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const ROOT_KEY_BYTES = 32;

/** The key did not open the blob (wrong key, or tampered data). Safe to log: it holds no key. */
export class BarrierDecryptError extends Error {
  override readonly name = 'BarrierDecryptError';
  constructor() {
    super('cipher: message authentication failed');
  }
}

/** Encrypts `plaintext` under a 32-byte key. Layout: nonce (12) | ciphertext | tag (16). */
export function sealBlob(key: Uint8Array, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]);
}

/** Decrypts a blob from {@link sealBlob}; any key of the wrong length or value fails the same way. */
export function openBlob(key: Uint8Array, blob: Uint8Array): Buffer {
  if (key.length !== ROOT_KEY_BYTES || blob.length < NONCE_BYTES + TAG_BYTES) throw new BarrierDecryptError();
  const bytes = Buffer.from(blob);
  const nonce = bytes.subarray(0, NONCE_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const ciphertext = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new BarrierDecryptError();
  }
}
