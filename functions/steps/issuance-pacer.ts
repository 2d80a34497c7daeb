/**
 * One batch's Vault issuance rate budget (config policy.issuanceBudget, this batch's share): each
 * issuance takes the next slot, 1/rate seconds after the previous one, and waits for it. Slots
 * are handed out in call order, so targets renewed side by side still start their issuances
 * evenly spaced, and a burst of a whole batch becomes a steady stream Vault's rate limiter
 * (429, VAULT_API.md 1.2) does not answer with refusals.
 */
export interface IssuancePacer {
  /** Resolves when this issuance may start. */
  take(): Promise<void>;
}

export const unpaced: IssuancePacer = { take: async () => undefined };

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function issuancePacer(perSecond: number | undefined, now: () => number = Date.now, sleep: (ms: number) => Promise<void> = sleepFor): IssuancePacer {
  if (perSecond === undefined) return unpaced;
  const spacingMs = 1000 / perSecond;
  let nextSlot = 0;
  return {
    async take() {
      const at = Math.max(now(), nextSlot);
      nextSlot = at + spacingMs;
      const waitMs = at - now();
      if (waitMs > 0) await sleep(waitMs);
    },
  };
}
