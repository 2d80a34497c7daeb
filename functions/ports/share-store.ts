import type { EncryptionContext } from './key-wrapper';

/** One KMS-wrapped unseal share as stored: the ciphertext and the context it was wrapped with. */
export interface WrappedShare {
  clusterId: string;
  index: number;
  ciphertext: Uint8Array;
  context: EncryptionContext;
}

/** Where the KMS-wrapped shares live (encrypted at rest, readable only by the unseal function). */
export interface ShareStore {
  list(clusterId: string): Promise<WrappedShare[]>;
  /** Stores every share or none; rejects with SharesAlreadyExistError if any exists. */
  putAllIfAbsent(shares: WrappedShare[]): Promise<void>;
}
