/**
 * Structured logging as the steps see it (Powertools Logger satisfies it). Fields must be safe
 * to log: never a key, a share, a token or KMS plaintext (invariant I2).
 */
export interface Log {
  debug(message: string, ...fields: Record<string, unknown>[]): void;
  info(message: string, ...fields: Record<string, unknown>[]): void;
  warn(message: string, ...fields: Record<string, unknown>[]): void;
  error(message: string, ...fields: Record<string, unknown>[]): void;
}
