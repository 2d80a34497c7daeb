import { countVerdicts, OtherVerdict, VerdictMetricValues, verdictMetricValue } from '../../functions/domain/verdict-metric';
import { TrustReasons } from '../../functions/domain/trust-verdict';

/**
 * The Verdict dimension of VerificationVerdicts: each value is a CloudWatch metric of its own, so
 * the set is closed, and a reason from a payload becomes a value only when it is a known verdict.
 */
describe('the Verdict dimension of the verification counts', () => {
  it('keeps every trust checker reason and VerifyBatch’s own as themselves', () => {
    for (const reason of [...Object.values(TrustReasons), 'SecretMissing', 'SecretMalformed', 'StaleServedCertificate', 'NoApplicationData', 'EndpointUnreachable']) {
      expect(verdictMetricValue(reason)).toBe(reason);
    }
  });

  it('counts a reason it does not know, however it is spelled, as Other', () => {
    for (const reason of ['', 'valid', 'Revoked ', 'VaultRequest', 'x'.repeat(300), 'Valid\nInjected=1', '__proto__', 'constructor']) {
      expect(verdictMetricValue(reason)).toBe(OtherVerdict);
    }
    // Closed: the known reasons and Other, nothing a caller can add.
    expect(VerdictMetricValues).toHaveLength(Object.values(TrustReasons).length + 5 + 1);
  });

  it('counts the verdicts of a batch per value, in the set’s order, leaving out the values that do not occur', () => {
    expect(countVerdicts(['Revoked', 'Valid', 'Valid', 'made-up', 'StaleServedCertificate', 'another'])).toEqual([
      { verdict: 'Valid', count: 2 },
      { verdict: 'Revoked', count: 1 },
      { verdict: 'StaleServedCertificate', count: 1 },
      { verdict: 'Other', count: 2 },
    ]);
    expect(countVerdicts([])).toEqual([]);
  });
});
