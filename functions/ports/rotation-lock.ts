/** The rotation lock (I3): held by one execution at a time, released only by its owner. */
export interface RotationLock {
  /** Deletes the lock iff `owner` holds it; answers whether it did. */
  releaseIfOwnedBy(owner: string): Promise<boolean>;
  holder(): Promise<{ owner: string; runId: string; acquiredAt?: string } | undefined>;
}
