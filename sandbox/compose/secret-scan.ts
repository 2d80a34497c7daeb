import { DecryptCommand } from '@aws-sdk/client-kms';
import { EnvNames } from '../../functions/contracts/env';
import { DynamoDbShareStore } from '../../functions/adapters/aws/dynamodb-share-store';
import { dynamoDbClientFromEnv } from '../../functions/adapters/aws/dynamodb-client';
import { kmsClientFromEnv } from '../../functions/adapters/kms/kms-client';
import type { LocalCloud } from './local-cloud';
import { needlesOf } from './secret-ledger';

/**
 * Invariant I2, checked: no share, KMS plaintext or token in any state payload, history event,
 * emitted event or log line. Only the sandbox can do this check, because only it may decrypt the
 * stored shares to learn what to look for.
 */
export function secretNeedles(secrets: { shares: readonly string[]; rootToken?: string }): string[] {
  const needles: string[] = [];
  for (const share of secrets.shares) {
    needles.push(share, Buffer.from(share, 'hex').toString('base64'), Buffer.from(share, 'utf8').toString('base64'));
  }
  if (secrets.rootToken) needles.push(secrets.rootToken);
  return needles.filter((needle) => needle.length >= 8);
}

/**
 * Every secret that existed during the run, collected after it: each unseal share (decrypted from
 * the share table), the root token, and every private key, Vault token and AppRole secret id the
 * sandbox saw appear (SecretLedger), including those the run replaced.
 */
export async function secretNeedlesOfTheRun(cloud: LocalCloud): Promise<string[]> {
  const rootToken = cloud.sandbox.vault.rootToken();
  const recorded = cloud.sandbox.secretLedger.secrets().flatMap(needlesOf);
  const needles = [...secretNeedles({ shares: await storedSharePlaintexts(cloud), ...(rootToken ? { rootToken } : {}) }), ...recorded];
  return [...new Set(needles)].filter((needle) => needle.length >= 8);
}

/** The needles found in a haystack (empty when clean). */
export function leaks(haystack: string, needles: readonly string[]): string[] {
  return needles.filter((needle) => haystack.includes(needle));
}

/**
 * Decrypts the sandbox's stored shares (sandbox only) to know what a leak would look like: as
 * UnsealNode, the one role besides Preflight that the key policy lets decrypt them.
 */
export async function storedSharePlaintexts(cloud: LocalCloud): Promise<string[]> {
  const env = cloud.runner.functionEnv('UnsealNode');
  const dynamoDb = dynamoDbClientFromEnv(env);
  const kms = kmsClientFromEnv(env);
  try {
    const store = new DynamoDbShareStore(dynamoDb, env[EnvNames.ShareTable]!);
    const shares: string[] = [];
    for (const share of await store.list(env[EnvNames.VaultClusterId]!)) {
      const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: share.ciphertext, EncryptionContext: { ...share.context } }));
      shares.push(Buffer.from(Plaintext!).toString('utf8'));
    }
    return shares;
  } finally {
    kms.destroy();
    dynamoDb.destroy();
  }
}

export interface SecretScanResult {
  secretsLookedFor: number;
  bytesScanned: number;
  found: number;
}

export function scanForSecrets(haystacks: readonly string[], needles: readonly string[]): SecretScanResult {
  const haystack = haystacks.join('\n');
  return { secretsLookedFor: needles.length, bytesScanned: haystack.length, found: leaks(haystack, needles).length };
}
