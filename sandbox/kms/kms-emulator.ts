import type { FaultControls } from '../aws-json/fault-plan';
import { startAwsJsonServer, type CallAuthorizer, type CallRecord, type UnavailableMode } from '../aws-json/aws-json-server';
import { KmsKeyStore, type KeyPolicy } from './kms-keys';
import { kmsOperations, type KmsOperationName } from './kms-operations';

export interface KmsEmulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (OS-assigned) */
  port?: number;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
}

export interface KmsEmulatorHandle {
  /** `http://127.0.0.1:<port>`: pass as the KMSClient `endpoint` (or AWS_ENDPOINT_URL_KMS). */
  endpoint: string;
  region: string;
  accountId: string;
  /** Creates a key directly (no HTTP call), optionally with an alias such as `alias/certflow-unseal`. */
  createKey(options?: { alias?: string; description?: string }): { keyId: string; arn: string };
  faults: FaultControls<KmsOperationName>;
  /** `false` makes every call fail: a reset connection (default) or a 503, for "KMS is down". */
  setAvailable(available: boolean, mode?: UnavailableMode): void;
  /** Replaces the sandbox key policy of a key (any KeyId form). */
  setKeyPolicy(keyId: string, policy: KeyPolicy): void;
  /** Every call received, in order: operation, resolved key id, caller's access key id. Never payloads. */
  calls(): Array<{ operation: string; keyId?: string; accessKeyId?: string; error?: string }>;
  /** Enforces IAM (identity and key policies) on every later call. */
  setAuthorizer(authorizer: CallAuthorizer | undefined): void;
  close(): Promise<void>;
}

/**
 * Starts an in-memory AWS KMS on loopback speaking the real JSON 1.1 protocol, so the production
 * KMS adapter (@aws-sdk/client-kms) runs against it unchanged (DESIGN.md, The sandbox).
 */
export async function startKmsEmulator(options: KmsEmulatorOptions = {}): Promise<KmsEmulatorHandle> {
  const region = options.region ?? 'us-east-1';
  const store = new KmsKeyStore(region, options.accountId ?? '000000000000');
  const server = await startAwsJsonServer(
    { targetPrefix: 'TrentService', internalException: 'KMSInternalException', operations: kmsOperations(store) },
    { host: options.host, port: options.port },
  );

  return {
    endpoint: server.endpoint,
    region,
    accountId: store.accountId,
    createKey(createOptions = {}) {
      const key = store.create({ description: createOptions.description });
      if (createOptions.alias !== undefined) store.createAlias(createOptions.alias, key.keyId);
      return { keyId: key.keyId, arn: key.arn };
    },
    faults: server.faults,
    setAvailable: server.setAvailable,
    setKeyPolicy(keyId, policy) {
      store.resolve(keyId).policy = { ...policy };
    },
    calls: (): CallRecord[] => server.calls(),
    setAuthorizer: server.setAuthorizer,
    close: server.close,
  };
}
