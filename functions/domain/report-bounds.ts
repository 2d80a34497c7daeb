/**
 * The `Rotation Succeeded` / `Rotation Rolled Back` detail is an EventBridge event (at most 256 KB),
 * the run's ledger record (a DynamoDB item, at most 400 KB) and part of the Rotation's state (at
 * most 256 KiB): it cannot name every service of a large fleet (one service with its serials is
 * about 200 bytes). So it lists at most this many; past that, `servicesTotal` says how many there
 * are, and the batch records in the ledger (`batch#<id>#renew`, `batch#<id>#verify-<phase>`) hold
 * every one. Below the bound the detail is exactly the full list, as before.
 */
export const MAX_SERVICES_IN_REPORT = 250;
/** The restart waves of a rollout budget the detail lists at most (`wavesTotal` past that). */
export const MAX_WAVES_IN_REPORT = 100;

/** The verdicts a run expects of a service that went well: listed after every other one when the list is cut. */
const AS_EXPECTED = new Set(['Valid', 'Restored']);

/**
 * At most `max` services, in the order given (by name, as the report builds them). When the list is
 * cut, the services whose verdict is not as expected (invalid, unverified, restored without client
 * authentication) are kept first, so the event always names what went wrong.
 */
export function boundedServices<T extends { service: string; verdict?: string }>(services: readonly T[], max = MAX_SERVICES_IN_REPORT): { listed: T[]; total: number } {
  if (services.length <= max) return { listed: [...services], total: services.length };
  const unexpected = services.filter((service) => !AS_EXPECTED.has(service.verdict ?? '')).slice(0, max);
  const kept = new Set<T>(unexpected);
  for (const service of services) {
    if (kept.size >= max) break;
    kept.add(service);
  }
  return { listed: services.filter((service) => kept.has(service)), total: services.length };
}

/** At most `max` restart waves, the first ones (they are in time order). */
export function boundedWaves<T>(waves: readonly T[], max = MAX_WAVES_IN_REPORT): { listed: T[]; total: number } {
  return { listed: waves.slice(0, max), total: waves.length };
}
