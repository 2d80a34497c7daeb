/**
 * Envelope encryption with a key nobody can read (KMS). The encryption context is bound as
 * authenticated data: decrypting with any other context fails (VAULT_API.md P11).
 */
export type EncryptionContext = Readonly<Record<string, string>>;

export interface KeyWrapper {
  wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
  /** Rejects with ShareDecryptError on a ciphertext or context mismatch. */
  unwrap(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
}
