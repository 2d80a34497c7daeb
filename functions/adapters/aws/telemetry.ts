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
  const logger = new Logger({
    serviceName: options.serviceName ?? 'certflow',
    logLevel: (options.logLevel ?? 'INFO') as 'INFO',
    persistentKeys: { function: options.functionName },
  });
  const emf = new Metrics({ namespace: MetricNames.Namespace, serviceName: options.serviceName ?? 'certflow' });
  const redirect = options.output ? new Console({ stdout: options.output, stderr: options.output }) : undefined;
  // Powertools keeps its Console in a plain field (and children get a fresh one); replacing it
  // redirects the JSON lines and nothing else.
  const capture = <T>(target: T): T => {
    if (redirect) (target as unknown as { console: Console }).console = redirect;
    return target;
  };
  capture(logger);
  capture(emf);
  return {
    logger,
    metrics: new EmfMetricsSink(emf, capture),
    forRun: (runId) => capture(logger.createChild({ persistentKeys: { runId } })),
  };
}

/** Gauges as EMF: one single-metric document per gauge, since dimensions differ per node. */
class EmfMetricsSink implements MetricsSink {
  constructor(
    private readonly emf: Metrics,
    private readonly capture: <T>(target: T) => T,
  ) {}

  gauge(name: string, value: number, dimensions: Record<string, string>): void {
    // singleMetric() builds a fresh Metrics with its own Console: redirect it too.
    const single = this.capture(this.emf.singleMetric());
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit.Count, value);
  }

  flush(): void {
    // single metrics are written as they are added; nothing is buffered.
  }
}
