/** Publishes gauges to CloudWatch (Embedded Metric Format in Lambda). */
export interface MetricsSink {
  gauge(name: string, value: number, dimensions: Record<string, string>): void;
  /** Writes everything gauged so far. */
  flush(): void;
}

/** Publishes nothing: for a dry run (`certflow plan`) and for callers of a step that count nothing. */
export const discardMetrics: MetricsSink = { gauge: () => undefined, flush: () => undefined };
