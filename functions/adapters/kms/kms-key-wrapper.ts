import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { KmsKeyMismatchError, KmsUnavailableError } from '../../contracts/errors';
import type { EncryptionContext, KeyWrapper } from '../../ports/key-wrapper';
import { kmsError } from './kms-errors';

/**
 * KeyWrapper over AWS KMS Encrypt/Decrypt (VAULT_API.md 3.2). Decrypt always names the key: KMS
 * then refuses a blob wrapped under any other key (IncorrectKeyException) instead of silently
 * using whichever key the blob names.
 */
export class KmsKeyWrapper implements KeyWrapper {
  /**
   * @param client built once per cold start (kmsClientFromEnv) and injected.
   * @param keyId the unseal-share key: id, ARN, `alias/...` or alias ARN.
   */
  constructor(
    private readonly client: KMSClient,
    private readonly keyId: string,
  ) {}

  async wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const call = { operation: 'Encrypt', keyId: this.keyId, context } as const;
    const output = await this.client
      .send(new EncryptCommand({ KeyId: this.keyId, Plaintext: plaintext, EncryptionContext: { ...context } }))
      .catch((error: unknown) => {
        throw kmsError(error, call);
      });
    if (output.CiphertextBlob === undefined) throw new KmsUnavailableError(`KMS Encrypt with key ${this.keyId} returned no CiphertextBlob`);
    // Asked by key ARN, the answer must name exactly that key: a redirected alias or a stand-in
    // endpoint would otherwise leave shares that only someone else's key opens.
    if (isKeyArn(this.keyId) && output.KeyId !== this.keyId) {
      throw new KmsKeyMismatchError(`KMS Encrypt with key ${this.keyId} answered for key ${String(output.KeyId)}: ciphertext discarded`, {
        details: { expectedKeyId: this.keyId, answeredKeyId: String(output.KeyId) },
      });
    }
    return output.CiphertextBlob;
  }

  async unwrap(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const call = { operation: 'Decrypt', keyId: this.keyId, context } as const;
    const output = await this.client
      .send(new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: ciphertext, EncryptionContext: { ...context } }))
      .catch((error: unknown) => {
        throw kmsError(error, call);
      });
    if (output.Plaintext === undefined) throw new KmsUnavailableError(`KMS Decrypt with key ${this.keyId} returned no Plaintext`);
    return output.Plaintext;
  }
}

/** A KMS key ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`), not an alias or a bare id. */
export function isKeyArn(keyId: string): boolean {
  return /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(keyId);
}
