import { randomBytes } from 'node:crypto';
import { openBlob, sealBlob } from './barrier-crypto';

/**
 * What an `awskms` node asks KMS to do with its root key (VAULT_API.md 3.3). The lead wires this to
 * the KMS emulator; while `unwrap` rejects, awskms nodes stay sealed and keep retrying (2.1).
 */
export interface AutoUnsealProvider {
  wrap(plain: Buffer): Promise<Buffer>;
  unwrap(blob: Buffer): Promise<Buffer>;
}

/**
 * The default provider when none is given: AES-256-GCM under a random in-process key, always
 * reachable. Enough for tests that do not care about KMS; inject a provider to make it fail.
 */
export function createLocalAutoUnseal(): AutoUnsealProvider {
  const key = randomBytes(32);
  return {
    wrap: async (plain) => sealBlob(key, plain),
    unwrap: async (blob) => openBlob(key, blob),
  };
}
