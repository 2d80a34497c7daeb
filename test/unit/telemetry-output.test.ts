import { Writable } from 'node:stream';
import { createTelemetry } from '../../functions/adapters/aws/telemetry';

/**
 * The local runner and the tests read every line a handler writes from `output` (the secret scan
 * of invariant I2 reads them there): if a Powertools upgrade stopped the redirect, the scan would
 * pass on nothing. These count the lines that arrive.
 */
function collect(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('telemetry with an output stream', () => {
  it('writes the logger’s, a run logger’s and each gauge’s line to the stream, one JSON document each', () => {
    const { stream, lines } = collect();
    const telemetry = createTelemetry({ functionName: 'ReportUnseal', output: stream });

    telemetry.logger.info('cold start');
    telemetry.forRun('run-1').warn('node sealed', { node: 'vault-0' });
    telemetry.metrics.gauge('VaultSealed', 1, { Cluster: 'econ', Node: 'vault-0' });
    telemetry.metrics.gauge('VaultSealedNodes', 1, { Cluster: 'econ' });

    const written = lines();
    expect(written).toHaveLength(4);
    expect(written[0]).toMatchObject({ message: 'cold start', function: 'ReportUnseal' });
    expect(written[1]).toMatchObject({ message: 'node sealed', runId: 'run-1', node: 'vault-0' });
    expect(written[2]).toMatchObject({ VaultSealed: 1, Cluster: 'econ', Node: 'vault-0', _aws: { CloudWatchMetrics: [{ Namespace: 'Certflow' }] } });
    expect(written[3]).toMatchObject({ VaultSealedNodes: 1, Cluster: 'econ' });
    expect(written[3]).not.toHaveProperty('Node');
  });
});
