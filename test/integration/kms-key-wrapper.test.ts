import { DisableKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { Env } from '../../functions/contracts/env';
import { CertflowError, ConfigError, InvalidInputError, KmsAccessDeniedError, KmsUnavailableError, ShareDecryptError } from '../../functions/contracts/errors';
import { kmsClientFromEnv } from '../../functions/adapters/kms/kms-client';
import { KmsKeyWrapper } from '../../functions/adapters/kms/kms-key-wrapper';
import { startKmsEmulator, type KmsEmulatorHandle } from '../../sandbox/kms/kms-emulator';

const shareText = 'c1d2e3f4a5b60718293a4b5c6d7e8f90c1d2e3f4a5b60718293a4b5c6d7e8f9001';
const share = new TextEncoder().encode(shareText);
const context = { 'vault-cluster': 'econgraph', 'share-index': '2' };

function envFor(kms: KmsEmulatorHandle, overrides: Record<string, string | undefined> = {}): Env {
  return {
    AWS_REGION: kms.region,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDUNSEAL',
    AWS_SECRET_ACCESS_KEY: 'sandbox-secret',
    ...overrides,
  };
}

/** Awaits a rejection and checks the property every certflow error must keep: no plaintext in anything loggable. */
async function rejection(call: Promise<unknown>): Promise<CertflowError> {
  const error = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CertflowError);
  const certflowError = error as CertflowError;
  const loggable = `${certflowError.message} ${JSON.stringify(certflowError.details)} ${String(certflowError.cause)}`;
  expect(loggable).not.toContain(shareText);
  expect(loggable).not.toContain(Buffer.from(share).toString('base64'));
  return certflowError;
}

describe('the KMS key wrapper', () => {
  let emulator: KmsEmulatorHandle;
  let client: KMSClient;
  let keyId: string;
  let wrapper: KmsKeyWrapper;

  beforeEach(async () => {
    emulator = await startKmsEmulator();
    keyId = emulator.createKey({ alias: 'alias/certflow-unseal' }).keyId;
    client = kmsClientFromEnv(envFor(emulator));
    wrapper = new KmsKeyWrapper(client, 'alias/certflow-unseal');
  });

  afterEach(async () => {
    client.destroy();
    await emulator.close();
  });

  it('wraps a share so that only unwrap with the same encryption context returns it', async () => {
    const wrapped = await wrapper.wrap(share, context);

    const unwrapped = await wrapper.unwrap(wrapped, { 'share-index': '2', 'vault-cluster': 'econgraph' });

    expect(Buffer.from(wrapped).includes(Buffer.from(share))).toBe(false);
    expect(Buffer.from(unwrapped)).toEqual(Buffer.from(share));
    expect(emulator.calls()).toEqual([
      { operation: 'Encrypt', keyId, accessKeyId: 'AKIDUNSEAL' },
      { operation: 'Decrypt', keyId, accessKeyId: 'AKIDUNSEAL' },
    ]);
  });

  describe('maps KMS failures to certflow errors', () => {
    it('answers ShareDecryptError naming the encryption context when the context does not match', async () => {
      const wrapped = await wrapper.wrap(share, context);

      const error = await rejection(wrapper.unwrap(wrapped, { ...context, 'share-index': '3' }));

      expect(error).toBeInstanceOf(ShareDecryptError);
      expect(error).toMatchObject({ name: 'ShareDecryptError', code: 'SHARE_DECRYPT_FAILED', retryable: false });
      expect(error.message).toContain('the ciphertext or its encryption context does not match');
      expect(error.message).toContain('share-index="3"');
      expect(error.message).toContain('vault-cluster="econgraph"');
      expect(error.details).toMatchObject({ kmsError: 'InvalidCiphertextException', operation: 'Decrypt', keyId: 'alias/certflow-unseal' });
      expect(error.cause).toMatchObject({ name: 'InvalidCiphertextException' });
    });

    it('answers ShareDecryptError when the share was wrapped under another key', async () => {
      const otherKey = emulator.createKey().keyId;
      const foreign = await client.send(new EncryptCommand({ KeyId: otherKey, Plaintext: share, EncryptionContext: context }));

      const error = await rejection(wrapper.unwrap(foreign.CiphertextBlob!, context));

      expect(error).toBeInstanceOf(ShareDecryptError);
      expect(error.details.kmsError).toBe('IncorrectKeyException');
    });

    it('answers ShareDecryptError for a tampered ciphertext', async () => {
      const wrapped = Buffer.from(await wrapper.wrap(share, context));
      wrapped[wrapped.length - 1]! ^= 0xff;

      await expect(rejection(wrapper.unwrap(wrapped, context))).resolves.toBeInstanceOf(ShareDecryptError);
    });

    it('answers KmsAccessDeniedError when the key policy refuses this caller', async () => {
      const wrapped = await wrapper.wrap(share, context);
      emulator.setKeyPolicy(keyId, { allowDecrypt: ({ accessKeyId }) => accessKeyId === 'AKIDSOMEONEELSE' });

      const error = await rejection(wrapper.unwrap(wrapped, context));

      expect(error).toBeInstanceOf(KmsAccessDeniedError);
      expect(error).toMatchObject({ code: 'KMS_ACCESS_DENIED', retryable: false, details: { kmsError: 'AccessDeniedException', httpStatus: 400 } });
    });

    it('answers KmsAccessDeniedError when the key is disabled', async () => {
      const wrapped = await wrapper.wrap(share, context);
      await client.send(new DisableKeyCommand({ KeyId: keyId }));

      const error = await rejection(wrapper.unwrap(wrapped, context));

      expect(error).toBeInstanceOf(KmsAccessDeniedError);
      expect(error.details.kmsError).toBe('DisabledException');
    });

    it('answers KmsAccessDeniedError when the configured key does not exist', async () => {
      const missing = new KmsKeyWrapper(client, 'alias/not-created');

      const error = await rejection(missing.wrap(share, context));

      expect(error).toBeInstanceOf(KmsAccessDeniedError);
      expect(error.details).toMatchObject({ kmsError: 'NotFoundException', operation: 'Encrypt' });
    });

    it('answers KmsUnavailableError, retryable, when KMS resets every connection', async () => {
      const wrapped = await wrapper.wrap(share, context);
      emulator.setAvailable(false);

      const error = await rejection(wrapper.unwrap(wrapped, context));

      expect(error).toBeInstanceOf(KmsUnavailableError);
      expect(error).toMatchObject({ code: 'KMS_UNAVAILABLE', retryable: true });
      expect(error.details.httpStatus).toBeUndefined();
      expect(error.cause).toBeDefined();
    });

    it('answers KmsUnavailableError when nothing listens at the endpoint', async () => {
      await emulator.close();
      const unreachable = kmsClientFromEnv(envFor(emulator));

      try {
        await expect(rejection(new KmsKeyWrapper(unreachable, keyId).wrap(share, context))).resolves.toBeInstanceOf(KmsUnavailableError);
      } finally {
        unreachable.destroy();
      }
    });

    it.each([
      ['a 503', { status: 503 }, 'ServiceUnavailableException'],
      ['a KMSInternalException', { status: 500 }, 'KMSInternalException'],
      ['throttling', { exception: 'ThrottlingException' }, 'ThrottlingException'],
    ])('answers KmsUnavailableError for %s that outlasts the SDK retry', async (_case, fault, name) => {
      const wrapped = await wrapper.wrap(share, context);
      emulator.faults.inject({ operation: 'Decrypt', ...fault });

      const error = await rejection(wrapper.unwrap(wrapped, context));

      expect(error).toBeInstanceOf(KmsUnavailableError);
      expect(error.details.kmsError).toBe(name);
      expect(emulator.calls().filter((call) => call.operation === 'Decrypt')).toHaveLength(2);
    });

    it('answers KmsUnavailableError when KMS answers slower than the request timeout', async () => {
      const impatient = kmsClientFromEnv(envFor(emulator), { requestTimeoutMs: 150, maxAttempts: 1 });
      emulator.faults.inject({ operation: 'Encrypt', latencyMs: 600 });

      try {
        const error = await rejection(new KmsKeyWrapper(impatient, keyId).wrap(share, context));
        expect(error).toBeInstanceOf(KmsUnavailableError);
      } finally {
        impatient.destroy();
      }
    });

    it('answers InvalidInputError when KMS rejects the request itself', async () => {
      const error = await rejection(wrapper.wrap(new Uint8Array(5000), context));

      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.details.kmsError).toBe('ValidationException');
    });
  });

  it('succeeds through one transient failure, because the client makes two attempts', async () => {
    const wrapped = await wrapper.wrap(share, context);
    emulator.faults.inject({ operation: 'Decrypt', status: 500, times: 1 });

    const unwrapped = await wrapper.unwrap(wrapped, context);

    expect(Buffer.from(unwrapped)).toEqual(Buffer.from(share));
    expect(emulator.calls().filter((call) => call.operation === 'Decrypt').map((call) => call.error)).toEqual(['KMSInternalException', undefined]);
  });

  describe('kmsClientFromEnv', () => {
    it('signs with the credentials of the env map it is given, not process.env', async () => {
      const other = kmsClientFromEnv(envFor(emulator, { AWS_ACCESS_KEY_ID: 'AKIDFROMMAP', AWS_SESSION_TOKEN: 'token' }));

      try {
        await new KmsKeyWrapper(other, keyId).wrap(share, context);
      } finally {
        other.destroy();
      }

      expect(emulator.calls().at(-1)).toMatchObject({ operation: 'Encrypt', accessKeyId: 'AKIDFROMMAP' });
    });

    it('uses AWS_ENDPOINT_URL when no KMS-specific endpoint is set', async () => {
      const fallback = kmsClientFromEnv(envFor(emulator, { AWS_ENDPOINT_URL_KMS: undefined, AWS_ENDPOINT_URL: emulator.endpoint }));

      try {
        await expect(new KmsKeyWrapper(fallback, keyId).wrap(share, context)).resolves.toBeInstanceOf(Uint8Array);
      } finally {
        fallback.destroy();
      }
    });

    it('refuses to build a client without a region, naming AWS_REGION', () => {
      expect(() => kmsClientFromEnv({ AWS_ENDPOINT_URL_KMS: emulator.endpoint })).toThrow(ConfigError);
      expect(() => kmsClientFromEnv({ AWS_ENDPOINT_URL_KMS: emulator.endpoint })).toThrow(/AWS_REGION/);
    });
  });
});
