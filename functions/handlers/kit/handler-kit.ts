import type { z } from 'zod';
import { CertflowError, InvalidInputError } from '../../contracts/errors';
import type { Env } from '../../contracts/env';
import type { Log } from '../../ports/log';
import type { MetricsSink } from '../../ports/metrics-sink';
import { Metrics } from '../../contracts/functions';
import { x509ParseCount } from '../../domain/x509-parse-count';

/** What the local runner (or a test) may give a handler besides its environment. */
export interface HandlerOptions {
  /** Where log and metric lines go; stdout when absent (as in Lambda). */
  output?: NodeJS.WritableStream;
}

/** The shape Lambda calls; the context is unused (the run id travels in the payload). */
export type LambdaHandler<TOut> = (event: unknown, context?: unknown) => Promise<TOut>;

/**
 * Parses an event at the edge. A bad payload becomes an InvalidInputError naming the field, and
 * nothing past the handler ever sees the raw event (STYLE.md habit 7).
 */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new InvalidInputError(`invalid ${what}: ${fields.join('; ')}`);
}

/** Parses the environment once per cold start; a misconfigured function fails loudly and clearly. */
export { parseEnvironment as parseEnv } from '../../adapters/parse-environment';

/** Builds a dependency once per handler instance (a cold start), on first use. */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

/**
 * Builds an asynchronous dependency once per handler instance (a cold start), on first use: the
 * run-time values read from SSM (adapters/run-time-values.ts). A failed build is not kept, so the
 * next invocation of a warm container tries again rather than failing forever.
 */
export function onceAsync<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * Logs a failure with safe fields and rethrows it unchanged, so Lambda reports `error.name` and
 * Step Functions' Retry/Catch match the class (STYLE.md habit 6). Unknown errors are logged by
 * name only: their messages may come from a library and are not known to be safe.
 */
export function logFailure(log: Log, error: unknown): never {
  if (error instanceof CertflowError) {
    log.error('step failed', { errorName: error.name, code: error.code, retryable: error.retryable, reason: error.message, ...error.details });
  } else {
    log.error('step failed with an unexpected error', { errorName: (error as Error | undefined)?.name ?? typeof error });
  }
  throw error;
}

let reportedParses = 0;

/**
 * Publishes the X.509 parses since the last report (the X509Parses metric). Invocations of one
 * bundle may overlap (the local runner runs a Map's items at once), so a report may carry a
 * neighbour's parses: the sum over all reports is exact, which is what a count per service needs.
 */
export function reportX509Parses(metrics: MetricsSink, functionName: string): void {
  const now = x509ParseCount();
  const delta = now - reportedParses;
  reportedParses = now;
  metrics.gauge(Metrics.X509Parses, delta, { [Metrics.FunctionDimension]: functionName });
}
