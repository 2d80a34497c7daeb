import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
} from '@aws-sdk/client-kms';
import { startKmsEmulator, type KmsEmulatorHandle } from '../../sandbox/kms/kms-emulator';

const region = 'us-east-1';
const share = new TextEncoder().encode('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08');
const context = { 'vault-cluster': 'econgraph', 'share-index': '0' };

function client(kms: KmsEmulatorHandle, options: { accessKeyId?: string; maxAttempts?: number } = {}): KMSClient {
  return new KMSClient({
    region,
    endpoint: kms.endpoint,
    credentials: { accessKeyId: options.accessKeyId ?? 'AKIDSANDBOX', secretAccessKey: 'sandbox-secret' },
    maxAttempts: options.maxAttempts ?? 1,
  });
}

/**
 * A call that got no HTTP answer (reset or refused connection). Under jest the SDK sees Node's
 * socket errors from another realm and wraps them as `AWS SDK error wrapper for TimeoutError:
 * socket hang up`, dropping `code`; so this checks the absent status and the text, which hold
 * both under jest and in plain Node.
 */
async function expectNoAnswer(call: Promise<unknown>): Promise<void> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e as { $metadata?: { httpStatusCode?: number } },
  );
  expect(error).toBeDefined();
  expect(error?.$metadata?.httpStatusCode).toBeUndefined();
  expect(String(error)).toMatch(/socket hang up|ECONNRESET|ECONNREFUSED/);
}

async function encrypt(kms: KMSClient, keyId: string, plaintext = share, encryptionContext: Record<string, string> = context): Promise<Uint8Array> {
  const output = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: encryptionContext }));
  return output.CiphertextBlob!;
}

describe('the KMS emulator', () => {
  let emulator: KmsEmulatorHandle;
  let kms: KMSClient;
  let key: { keyId: string; arn: string };

  beforeEach(async () => {
    emulator = await startKmsEmulator();
    kms = client(emulator);
    key = emulator.createKey({ alias: 'alias/certflow-unseal', description: 'unseal shares' });
  });

  afterEach(async () => {
    kms.destroy();
    await emulator.close();
  });

  describe('Encrypt and Decrypt', () => {
    it('decrypts what it encrypted when given the same encryption context', async () => {
      const blob = await encrypt(kms, key.keyId);

      const output = await kms.send(new DecryptCommand({ KeyId: key.keyId, CiphertextBlob: blob, EncryptionContext: context }));

      expect(Buffer.from(blob).includes(Buffer.from(share))).toBe(false);
      expect(Buffer.from(output.Plaintext!)).toEqual(Buffer.from(share));
      expect(output.KeyId).toBe(key.arn);
      expect(output.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
    });

    it('decrypts regardless of the order the encryption context keys were sent in', async () => {
      const blob = await encrypt(kms, key.keyId, share, { a: '1', b: '2' });

      const output = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { b: '2', a: '1' } }));

      expect(Buffer.from(output.Plaintext!)).toEqual(Buffer.from(share));
    });

    it.each([
      ['a missing encryption context', undefined],
      ['a missing pair', { 'vault-cluster': 'econgraph' }],
      ['an extra pair', { ...context, extra: 'x' }],
      ['a different value', { ...context, 'share-index': '1' }],
      ['a key in different case', { 'Vault-Cluster': 'econgraph', 'share-index': '0' }],
      ['a value in different case', { ...context, 'vault-cluster': 'EconGraph' }],
    ])('refuses to decrypt with %s (InvalidCiphertextException)', async (_case, otherContext) => {
      const blob = await encrypt(kms, key.keyId);

      await expect(kms.send(new DecryptCommand({ KeyId: key.keyId, CiphertextBlob: blob, EncryptionContext: otherContext }))).rejects.toMatchObject({
        name: 'InvalidCiphertextException',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it.each([
      ['the last byte (the ciphertext)', (blob: Buffer) => blob.length - 1],
      ['the tag', (blob: Buffer) => blob.length - share.length - 1],
      ['the IV', (blob: Buffer) => 2 + 36],
    ])('refuses a blob with a flipped bit in %s', async (_part, offset) => {
      const blob = Buffer.from(await encrypt(kms, key.keyId));
      blob[offset(blob)]! ^= 0x01;

      await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    });

    it('refuses a blob it never produced', async () => {
      await expect(kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from('not a kms ciphertext at all, only bytes') }))).rejects.toMatchObject({
        name: 'InvalidCiphertextException',
      });
    });

    it('decrypts without a KeyId using the key embedded in the blob', async () => {
      const blob = await encrypt(kms, key.keyId);

      const output = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));

      expect(Buffer.from(output.Plaintext!)).toEqual(Buffer.from(share));
      expect(output.KeyId).toBe(key.arn);
    });

    it('refuses a Decrypt naming another key than the one that encrypted (IncorrectKeyException)', async () => {
      const other = emulator.createKey();
      const blob = await encrypt(kms, key.keyId);

      await expect(kms.send(new DecryptCommand({ KeyId: other.keyId, CiphertextBlob: blob, EncryptionContext: context }))).rejects.toMatchObject({
        name: 'IncorrectKeyException',
      });
    });

    it('rejects a plaintext over 4096 bytes with a ValidationException', async () => {
      await expect(encrypt(kms, key.keyId, new Uint8Array(4097))).rejects.toMatchObject({ name: 'ValidationException' });
    });
  });

  describe('key identifiers', () => {
    it('accepts a key id, key ARN, alias name and alias ARN for the same key', async () => {
      const aliasArn = `arn:aws:kms:${region}:000000000000:alias/certflow-unseal`;
      for (const keyId of [key.keyId, key.arn, 'alias/certflow-unseal', aliasArn]) {
        const blob = await encrypt(kms, keyId);
        const output = await kms.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: blob, EncryptionContext: context }));
        expect(output.KeyId).toBe(key.arn);
      }
    });

    it('lists the alias with its target key', async () => {
      const output = await kms.send(new ListAliasesCommand({ KeyId: key.keyId }));

      expect(output.Aliases).toEqual([expect.objectContaining({ AliasName: 'alias/certflow-unseal', TargetKeyId: key.keyId })]);
      expect(output.Aliases![0]!.CreationDate).toBeInstanceOf(Date);
    });

    it('creates keys and aliases over the API', async () => {
      const created = await kms.send(new CreateKeyCommand({ Description: 'made over HTTP' }));
      const keyId = created.KeyMetadata!.KeyId!;
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/over-http', TargetKeyId: keyId }));

      const described = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/over-http' }));

      expect(described.KeyMetadata).toMatchObject({ KeyId: keyId, Description: 'made over HTTP' });
      await expect(kms.send(new CreateAliasCommand({ AliasName: 'alias/over-http', TargetKeyId: keyId }))).rejects.toMatchObject({ name: 'AlreadyExistsException' });
    });

    it.each([
      ['an unknown key id', '11111111-2222-3333-4444-555555555555'],
      ['an unknown alias', 'alias/nope'],
      ['a key ARN of another region', () => key.arn.replace(region, 'eu-west-1')],
    ])('answers NotFoundException for %s', async (_case, keyId) => {
      const ref = typeof keyId === 'function' ? keyId() : keyId;

      await expect(kms.send(new EncryptCommand({ KeyId: ref, Plaintext: share }))).rejects.toMatchObject({
        name: 'NotFoundException',
        $metadata: { httpStatusCode: 400 },
      });
    });
  });

  describe('key state and policy', () => {
    it('refuses Encrypt and Decrypt with a disabled key until it is enabled again', async () => {
      const blob = await encrypt(kms, key.keyId);
      await kms.send(new DisableKeyCommand({ KeyId: key.keyId }));

      await expect(encrypt(kms, key.keyId)).rejects.toMatchObject({ name: 'DisabledException' });
      await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }))).rejects.toMatchObject({ name: 'DisabledException' });
      const described = await kms.send(new DescribeKeyCommand({ KeyId: key.keyId }));
      expect(described.KeyMetadata).toMatchObject({ Enabled: false, KeyState: 'Disabled' });

      await kms.send(new EnableKeyCommand({ KeyId: key.keyId }));
      await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }))).resolves.toMatchObject({ KeyId: key.arn });
    });

    it('refuses a Decrypt the key policy does not allow (AccessDeniedException) and records who asked', async () => {
      emulator.setKeyPolicy('alias/certflow-unseal', {
        allowDecrypt: ({ accessKeyId, encryptionContext }) => accessKeyId === 'AKIDUNSEAL' && encryptionContext['vault-cluster'] === 'econgraph',
      });
      const blob = await encrypt(kms, key.keyId);
      const unsealRole = client(emulator, { accessKeyId: 'AKIDUNSEAL' });

      try {
        await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }))).rejects.toMatchObject({
          name: 'AccessDeniedException',
          message: expect.stringContaining('kms:Decrypt'),
        });
        await expect(unsealRole.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }))).resolves.toMatchObject({ KeyId: key.arn });
      } finally {
        unsealRole.destroy();
      }

      expect(emulator.calls().filter((call) => call.operation === 'Decrypt')).toEqual([
        { operation: 'Decrypt', keyId: key.keyId, accessKeyId: 'AKIDSANDBOX', error: 'AccessDeniedException' },
        { operation: 'Decrypt', keyId: key.keyId, accessKeyId: 'AKIDUNSEAL' },
      ]);
    });

    it('never records plaintext in its call log', async () => {
      const blob = await encrypt(kms, key.keyId);
      await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));

      const log = JSON.stringify(emulator.calls());

      expect(emulator.calls()).toHaveLength(2);
      expect(log).not.toContain(Buffer.from(share).toString('utf8'));
      expect(log).not.toContain(Buffer.from(share).toString('base64'));
    });
  });

  describe('GenerateDataKey, DescribeKey and rotation', () => {
    it.each([
      [{ KeySpec: 'AES_256' as const }, 32],
      [{ KeySpec: 'AES_128' as const }, 16],
      [{ NumberOfBytes: 64 }, 64],
    ])('generates a data key for %j whose ciphertext decrypts to its plaintext', async (spec, bytes) => {
      const generated = await kms.send(new GenerateDataKeyCommand({ KeyId: 'alias/certflow-unseal', EncryptionContext: context, ...spec }));

      const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: context }));

      expect(generated.Plaintext).toHaveLength(bytes);
      expect(Buffer.from(decrypted.Plaintext!)).toEqual(Buffer.from(generated.Plaintext!));
      expect(generated.KeyId).toBe(key.arn);
    });

    it('refuses a data key request naming neither KeySpec nor NumberOfBytes', async () => {
      await expect(kms.send(new GenerateDataKeyCommand({ KeyId: key.keyId }))).rejects.toMatchObject({ name: 'ValidationException' });
    });

    it('describes a symmetric encryption key as KMS does', async () => {
      const output = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/certflow-unseal' }));

      expect(output.KeyMetadata).toMatchObject({
        KeyId: key.keyId,
        Arn: key.arn,
        AWSAccountId: '000000000000',
        Description: 'unseal shares',
        Enabled: true,
        KeyState: 'Enabled',
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      });
      expect(output.KeyMetadata!.CreationDate).toBeInstanceOf(Date);
    });

    it('reports key rotation off until it is enabled, then on with the period', async () => {
      const before = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.keyId }));
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.arn }));
      const after = await kms.send(new GetKeyRotationStatusCommand({ KeyId: 'alias/certflow-unseal' }));

      expect(before.KeyRotationEnabled).toBe(false);
      expect(after).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });
    });
  });

  describe('faults', () => {
    it('fails the next call with KMSInternalException for a 500 fault limited to one time, then succeeds', async () => {
      const blob = await encrypt(kms, key.keyId);
      emulator.faults.inject({ operation: 'Decrypt', status: 500, times: 1 });

      await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }))).rejects.toMatchObject({
        name: 'KMSInternalException',
        $metadata: { httpStatusCode: 500 },
      });
      await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }))).resolves.toMatchObject({ KeyId: key.arn });
    });

    it('lets the SDK retry through a one-time 503 fault', async () => {
      const retrying = client(emulator, { maxAttempts: 3 });
      emulator.faults.inject({ operation: 'Encrypt', status: 503, times: 1 });

      try {
        await expect(encrypt(retrying, key.keyId)).resolves.toBeInstanceOf(Uint8Array);
      } finally {
        retrying.destroy();
      }

      expect(emulator.calls().map((call) => call.error)).toEqual(['ServiceUnavailableException', undefined]);
    });

    it('fails only the named operation and stops after clear', async () => {
      const id = emulator.faults.inject({ operation: 'Encrypt', exception: 'ThrottlingException' });

      await expect(encrypt(kms, key.keyId)).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
      await expect(kms.send(new DescribeKeyCommand({ KeyId: key.keyId }))).resolves.toBeDefined();
      await expect(encrypt(kms, key.keyId)).rejects.toMatchObject({ name: 'ThrottlingException' });

      emulator.faults.clear(id);
      await expect(encrypt(kms, key.keyId)).resolves.toBeInstanceOf(Uint8Array);
    });

    it('delays answers by the injected latency', async () => {
      emulator.faults.inject({ operation: 'DescribeKey', latencyMs: 300, times: 1 });
      const started = Date.now();

      await kms.send(new DescribeKeyCommand({ KeyId: key.keyId }));

      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('drops the connection for a dropConnection fault, so no HTTP status reaches the client', async () => {
      emulator.faults.inject({ dropConnection: true, times: 1 });

      await expectNoAnswer(encrypt(kms, key.keyId));

      expect(emulator.calls()).toEqual([{ operation: 'Encrypt', accessKeyId: 'AKIDSANDBOX', error: 'ConnectionDropped' }]);
      await expect(encrypt(kms, key.keyId)).resolves.toBeInstanceOf(Uint8Array);
    });

    it('fails every call while unavailable (reset or 503) and recovers when available again', async () => {
      emulator.setAvailable(false);
      await expectNoAnswer(encrypt(kms, key.keyId));

      emulator.setAvailable(false, 503);
      await expect(encrypt(kms, key.keyId)).rejects.toMatchObject({ name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } });

      emulator.setAvailable(true);
      await expect(encrypt(kms, key.keyId)).resolves.toBeInstanceOf(Uint8Array);
    });
  });

  describe('lifecycle', () => {
    it('starts in well under a second on its own port and answers nothing once closed', async () => {
      const started = Date.now();
      const second = await startKmsEmulator({ region: 'eu-west-1', accountId: '123456789012' });
      const elapsed = Date.now() - started;
      const secondKey = second.createKey();
      const secondClient = new KMSClient({ region: 'eu-west-1', endpoint: second.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });

      try {
        expect(elapsed).toBeLessThan(500);
        expect(second.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(second.endpoint).not.toBe(emulator.endpoint);
        expect(secondKey.arn).toBe(`arn:aws:kms:eu-west-1:123456789012:key/${secondKey.keyId}`);
        await secondClient.send(new DescribeKeyCommand({ KeyId: secondKey.keyId }));

        await second.close();

        await expectNoAnswer(secondClient.send(new DescribeKeyCommand({ KeyId: secondKey.keyId })));
      } finally {
        secondClient.destroy();
      }
    });
  });
});
