import { TrustReasons } from './trust-verdict';

/** The verdicts VerifyBatch gives itself, besides the trust checker's reasons. */
export const VerifyReasons = {
  /** The target's Secret does not exist. */
  SecretMissing: 'SecretMissing',
  /** The Secret's files do not parse as the target's kind lays them out. */
  SecretMalformed: 'SecretMalformed',
  /** The endpoint serves another certificate than its Secret holds: the workload has not reloaded. */
  StaleServedCertificate: 'StaleServedCertificate',
  /** The handshake completed but the server sent no data: it refused certflow's client certificate. */
  NoApplicationData: 'NoApplicationData',
  /** No TLS session with the endpoint, or no certificate served. */
  EndpointUnreachable: 'EndpointUnreachable',
} as const;

/** Every reason that is not one of the known verdicts (a new error name, say), in one series. */
export const OtherVerdict = 'Other';

/**
 * The values the Verdict dimension can take: each is a metric of its own in CloudWatch (billed, and
 * a series in every graph), so the set is closed. A verdict's reason is a string in a payload; it
 * becomes a dimension value only when it is one of these.
 */
export const VerdictMetricValues: readonly string[] = [...new Set([...Object.values(TrustReasons), ...Object.values(VerifyReasons), OtherVerdict])];

const KNOWN = new Set(VerdictMetricValues);

/** The Verdict dimension value of a verdict's reason: the reason itself when known, else `Other`. */
export function verdictMetricValue(reason: string): string {
  return KNOWN.has(reason) ? reason : OtherVerdict;
}

/** How many verdicts of each dimension value, in the set's order (only values that occur). */
export function countVerdicts(reasons: readonly string[]): Array<{ verdict: string; count: number }> {
  const counts = new Map<string, number>();
  for (const reason of reasons) {
    const verdict = verdictMetricValue(reason);
    counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
  }
  return VerdictMetricValues.filter((verdict) => counts.has(verdict)).map((verdict) => ({ verdict, count: counts.get(verdict)! }));
}
