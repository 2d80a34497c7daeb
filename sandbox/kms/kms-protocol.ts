import * as z from 'zod';

/**
 * Request shapes of the emulated KMS operations, as the JSON 1.1 protocol carries them: blobs are
 * base64 strings, timestamps epoch seconds. Members the sandbox ignores (GrantTokens, DryRun,
 * Tags...) are accepted and dropped, as a client may send them.
 */
const keyId = z.string().min(1).max(2048);
const blob = z.base64().transform((text) => Buffer.from(text, 'base64'));
const encryptionContext = z.record(z.string(), z.string()).optional();
const symmetricOnly = z.literal('SYMMETRIC_DEFAULT').optional();

export const EncryptRequest = z.object({
  KeyId: keyId,
  Plaintext: blob.refine((bytes) => bytes.length >= 1 && bytes.length <= 4096, 'Plaintext must be 1 to 4096 bytes'),
  EncryptionContext: encryptionContext,
  EncryptionAlgorithm: symmetricOnly,
});

export const DecryptRequest = z.object({
  CiphertextBlob: blob.refine((bytes) => bytes.length >= 1 && bytes.length <= 6144, 'CiphertextBlob must be 1 to 6144 bytes'),
  KeyId: keyId.optional(),
  EncryptionContext: encryptionContext,
  EncryptionAlgorithm: symmetricOnly,
});

export const GenerateDataKeyRequest = z
  .object({
    KeyId: keyId,
    KeySpec: z.enum(['AES_256', 'AES_128']).optional(),
    NumberOfBytes: z.number().int().min(1).max(1024).optional(),
    EncryptionContext: encryptionContext,
  })
  // KMS: "Please specify either number of bytes or key spec", and never both.
  .refine((request) => (request.KeySpec === undefined) !== (request.NumberOfBytes === undefined), 'specify exactly one of KeySpec and NumberOfBytes');

export const KeyIdRequest = z.object({ KeyId: keyId });

export const CreateKeyRequest = z.object({
  Description: z.string().max(8192).optional(),
  // The sandbox holds symmetric encryption keys only: all certflow uses.
  KeyUsage: z.literal('ENCRYPT_DECRYPT').optional(),
  KeySpec: symmetricOnly,
  CustomerMasterKeySpec: symmetricOnly,
});

export const CreateAliasRequest = z.object({ AliasName: z.string().min(1).max(256), TargetKeyId: keyId });

export const ListAliasesRequest = z.object({ KeyId: keyId.optional(), Limit: z.number().int().min(1).max(100).optional(), Marker: z.string().optional() });

export const EnableKeyRotationRequest = z.object({ KeyId: keyId, RotationPeriodInDays: z.number().int().min(90).max(2560).optional() });

/** Seconds since the epoch: how the JSON protocol encodes timestamps. */
export const epochSeconds = (date: Date): number => date.getTime() / 1000;

export const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
