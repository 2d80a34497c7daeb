/** Publishes gauges to CloudWatch (Embedded Metric Format in Lambda). */
export interface MetricsSink {
  gauge(name: string, value: number, dimensions: Record<string, string>): void;
  /** Writes everything gauged so far. */
  flush(): void;
}
