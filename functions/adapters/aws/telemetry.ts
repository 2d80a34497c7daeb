import { Console } from 'node:console';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricsSink } from '../../ports/metrics-sink';
import { Metrics as MetricNames } from '../../contracts/functions';

/**
 * Powertools Logger and Metrics, built once per cold start. In Lambda both write JSON lines to
 * stdout (Metrics as Embedded Metric Format, so no PutMetricData call and no extra IAM).
 * `output` lets the local runner capture the very same lines per execution (to scan them for
 * secrets, invariant I2) instead of printing them.
 */
export interface TelemetryOptions {
  functionName: string;
  serviceName?: string;
  logLevel?: string;
  output?: NodeJS.WritableStream;
}

export interface Telemetry {
  logger: Logger;
  metrics: MetricsSink;
  /**
   * A logger whose every line carries the run id. A child per invocation, not appendKeys on the
   * shared logger: the local runner runs invocations of one handler concurrently.
   */
  forRun(runId: string): Logger;
}

export function createTelemetry(options: TelemetryOptions): Telemetry {
  const serviceName = options.serviceName ?? 'certflow';
  const logger = new Logger({
    serviceName,
    logLevel: (options.logLevel ?? 'INFO') as 'INFO',
    persistentKeys: { function: options.functionName },
  });
  // Powertools Logger (2.36) offers no output option: its lines go to a Console it builds on
  // process.stdout (or, with POWERTOOLS_DEV, the global console), and a custom LogFormatter only
  // shapes them. So the Logger's Console is still replaced to redirect it; the telemetry test
  // asserts every line reaches `output`, so an upgrade that renames the field fails loudly.
  const redirect = options.output ? new Console({ stdout: options.output, stderr: options.output }) : undefined;
  const capture = (target: Logger): Logger => {
    if (redirect) (target as unknown as { console: Console }).console = redirect;
    return target;
  };
  capture(logger);
  return {
    logger,
    metrics: new EmfMetricsSink(serviceName, options.output),
    forRun: (runId) => capture(logger.createChild({ persistentKeys: { runId } })),
  };
}

/**
 * Gauges as EMF: one document per gauge, since dimensions differ per node. Built with the
 * Metrics' public API: serializeMetrics() gives the EMF document, which goes to `output` when
 * one is given, else publishStoredMetrics() prints it to stdout for CloudWatch, as in Lambda.
 */
class EmfMetricsSink implements MetricsSink {
  constructor(
    private readonly serviceName: string,
    private readonly output: NodeJS.WritableStream | undefined,
  ) {}

  gauge(name: string, value: number, dimensions: Record<string, string>): void {
    const emf = new Metrics({ namespace: MetricNames.Namespace, serviceName: this.serviceName });
    for (const [key, dimension] of Object.entries(dimensions)) emf.addDimension(key, dimension);
    emf.addMetric(name, MetricUnit.Count, value);
    if (!this.output) {
      emf.publishStoredMetrics();
      return;
    }
    this.output.write(`${JSON.stringify(emf.serializeMetrics())}\n`);
    emf.clearMetrics();
  }

  flush(): void {
    // every gauge is written as it is set; nothing is buffered.
  }
}
