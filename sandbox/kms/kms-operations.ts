import { randomBytes } from 'node:crypto';
import { AwsJsonError } from '../aws-json/aws-json-error';
import type { CallAuthorization, Operation, OperationContext } from '../aws-json/aws-json-server';
import { parseRequest } from '../aws-json/request-schema';
import { ciphertextKeyId, openCiphertext, sealCiphertext } from './kms-ciphertext';
import type { KeyPolicy, KmsKey, KmsKeyStore } from './kms-keys';
import {
  base64,
  CreateAliasRequest,
  CreateKeyRequest,
  DecryptRequest,
  EnableKeyRotationRequest,
  EncryptRequest,
  epochSeconds,
  GenerateDataKeyRequest,
  KeyIdRequest,
  ListAliasesRequest,
} from './kms-protocol';

export const KmsOperationNames = [
  'Encrypt',
  'Decrypt',
  'GenerateDataKey',
  'DescribeKey',
  'CreateKey',
  'CreateAlias',
  'ListAliases',
  'EnableKeyRotation',
  'GetKeyRotationStatus',
  'DisableKey',
  'EnableKey',
] as const;
export type KmsOperationName = (typeof KmsOperationNames)[number];

const algorithm = 'SYMMETRIC_DEFAULT';

/** The KMS operations over one key store, as handlers for the shared JSON 1.1 server. */
export function kmsOperations(store: KmsKeyStore): Record<KmsOperationName, Operation> {
  /** Resolves the key a call names and records it (the id only) for test assertions. */
  const keyFor = (keyRef: string, context: OperationContext): KmsKey => {
    const key = store.resolve(keyRef);
    context.annotate({ keyId: key.keyId });
    return key;
  };

  return {
    async Encrypt(input, context) {
      const request = parseRequest(EncryptRequest, input);
      const key = keyFor(request.KeyId, context);
      const encryptionContext = request.EncryptionContext ?? {};
      await context.authorize(iamRequest('kms:Encrypt', key, store.accountId, encryptionContext));
      authorize(key, 'allowEncrypt', 'Encrypt', context, encryptionContext);
      requireEnabled(key);
      const blob = sealCiphertext({ keyId: key.keyId, material: key.material, plaintext: request.Plaintext, context: encryptionContext });
      return { CiphertextBlob: base64(blob), KeyId: key.arn, EncryptionAlgorithm: algorithm };
    },

    async Decrypt(input, context) {
      const request = parseRequest(DecryptRequest, input);
      const named = request.KeyId === undefined ? undefined : keyFor(request.KeyId, context);
      const embeddedId = ciphertextKeyId(request.CiphertextBlob);
      const key = embeddedId === undefined ? undefined : store.byId(embeddedId);
      // A blob that is not ours, or names no key here, is as unreadable as a tampered one.
      if (key === undefined) throw invalidCiphertext();
      if (named !== undefined && named.keyId !== key.keyId) {
        throw new AwsJsonError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
      }
      context.annotate({ keyId: key.keyId });
      const encryptionContext = request.EncryptionContext ?? {};
      await context.authorize(iamRequest('kms:Decrypt', key, store.accountId, encryptionContext));
      authorize(key, 'allowDecrypt', 'Decrypt', context, encryptionContext);
      requireEnabled(key);
      const plaintext = openCiphertext({ blob: request.CiphertextBlob, material: key.material, context: encryptionContext });
      if (plaintext === undefined) throw invalidCiphertext();
      return { KeyId: key.arn, Plaintext: base64(plaintext), EncryptionAlgorithm: algorithm };
    },

    async GenerateDataKey(input, context) {
      const request = parseRequest(GenerateDataKeyRequest, input);
      const key = keyFor(request.KeyId, context);
      const encryptionContext = request.EncryptionContext ?? {};
      await context.authorize(iamRequest('kms:GenerateDataKey', key, store.accountId, encryptionContext));
      authorize(key, 'allowEncrypt', 'GenerateDataKey', context, encryptionContext);
      requireEnabled(key);
      const plaintext = randomBytes(request.NumberOfBytes ?? (request.KeySpec === 'AES_128' ? 16 : 32));
      const blob = sealCiphertext({ keyId: key.keyId, material: key.material, plaintext, context: encryptionContext });
      return { CiphertextBlob: base64(blob), Plaintext: base64(plaintext), KeyId: key.arn };
    },

    async DescribeKey(input, context) {
      const request = parseRequest(KeyIdRequest, input);
      const key = keyFor(request.KeyId, context);
      await context.authorize(iamRequest('kms:DescribeKey', key, store.accountId));
      return { KeyMetadata: keyMetadata(key, store.accountId) };
    },

    async CreateKey(input, context) {
      const request = parseRequest(CreateKeyRequest, input);
      await context.authorize({ action: 'kms:CreateKey', resource: '*' });
      const key = store.create({ description: request.Description });
      return { KeyMetadata: keyMetadata(key, store.accountId) };
    },

    async CreateAlias(input, context) {
      const request = parseRequest(CreateAliasRequest, input);
      // CreateAlias needs the permission on the alias and on the key it points to.
      await context.authorize({ action: 'kms:CreateAlias', resource: `arn:aws:kms:${store.region}:${store.accountId}:${request.AliasName}` });
      await context.authorize(iamRequest('kms:CreateAlias', store.resolve(request.TargetKeyId), store.accountId));
      store.createAlias(request.AliasName, request.TargetKeyId);
      return {};
    },

    async ListAliases(input, context) {
      const request = parseRequest(ListAliasesRequest, input);
      await context.authorize({ action: 'kms:ListAliases', resource: '*' });
      const aliases = store.listAliases(request.KeyId).map((alias) => ({
        AliasName: alias.aliasName,
        AliasArn: alias.aliasArn,
        TargetKeyId: alias.targetKeyId,
        CreationDate: epochSeconds(alias.createdAt),
      }));
      return { Aliases: aliases, Truncated: false };
    },

    async EnableKeyRotation(input, context) {
      const request = parseRequest(EnableKeyRotationRequest, input);
      const key = keyFor(request.KeyId, context);
      await context.authorize(iamRequest('kms:EnableKeyRotation', key, store.accountId));
      requireEnabled(key);
      key.rotationEnabled = true;
      key.rotationPeriodInDays = request.RotationPeriodInDays ?? key.rotationPeriodInDays;
      return {};
    },

    async GetKeyRotationStatus(input, context) {
      const key = keyFor(parseRequest(KeyIdRequest, input).KeyId, context);
      await context.authorize(iamRequest('kms:GetKeyRotationStatus', key, store.accountId));
      return {
        KeyId: key.keyId,
        KeyRotationEnabled: key.rotationEnabled,
        ...(key.rotationEnabled && { RotationPeriodInDays: key.rotationPeriodInDays }),
      };
    },

    async DisableKey(input, context) {
      const key = keyFor(parseRequest(KeyIdRequest, input).KeyId, context);
      await context.authorize(iamRequest('kms:DisableKey', key, store.accountId));
      key.enabled = false;
      return {};
    },

    async EnableKey(input, context) {
      const key = keyFor(parseRequest(KeyIdRequest, input).KeyId, context);
      await context.authorize(iamRequest('kms:EnableKey', key, store.accountId));
      key.enabled = true;
      return {};
    },
  };
}

/**
 * The IAM side of a KMS call: the key's ARN, and the condition keys KMS sets for it (each
 * encryption-context pair as `kms:EncryptionContext:<key>`, their keys, the caller's account).
 */
function iamRequest(action: string, key: KmsKey, accountId: string, encryptionContext: Record<string, string> = {}): CallAuthorization {
  const context: Record<string, string | string[]> = { 'kms:CallerAccount': accountId };
  for (const [name, value] of Object.entries(encryptionContext)) context[`kms:EncryptionContext:${name}`] = value;
  if (Object.keys(encryptionContext).length > 0) context['kms:EncryptionContextKeys'] = Object.keys(encryptionContext);
  return { action, resource: key.arn, context };
}

function invalidCiphertext(): AwsJsonError {
  // Real KMS gives no message here at all; this one is as unspecific on purpose (VAULT_API.md P11).
  return new AwsJsonError('InvalidCiphertextException', 'The ciphertext is invalid or was not encrypted under this key with this encryption context.');
}

function requireEnabled(key: KmsKey): void {
  if (!key.enabled) throw new AwsJsonError('DisabledException', `${key.arn} is disabled.`);
}

function authorize(
  key: KmsKey,
  rule: keyof KeyPolicy,
  action: string,
  context: OperationContext,
  encryptionContext: Record<string, string>,
): void {
  const allow = key.policy[rule];
  const accessKeyId = context.accessKeyId ?? '';
  if (allow === undefined || allow({ accessKeyId, encryptionContext: { ...encryptionContext } })) return;
  throw new AwsJsonError(
    'AccessDeniedException',
    `User: ${accessKeyId || '(anonymous)'} is not authorized to perform: kms:${action} on resource: ${key.arn} because no resource-based policy allows the kms:${action} action`,
  );
}

function keyMetadata(key: KmsKey, accountId: string) {
  return {
    AWSAccountId: accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: epochSeconds(key.createdAt),
    Enabled: key.enabled,
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: key.enabled ? 'Enabled' : 'Disabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: [algorithm],
    MultiRegion: false,
  };
}
