import { Duration } from 'aws-cdk-lib';
import type { RetryProps } from 'aws-cdk-lib/aws-stepfunctions';
import { ErrorNames } from '../../functions/contracts/errors';

/**
 * Named retry policies of the certflow state machines. Every error a policy matches is either a
 * named error class from functions/contracts (the handler decides retryable versus terminal by
 * class) or one of Lambda's own service errors. None matches `States.ALL`: an error nobody
 * classified is not retried, it is caught and reported.
 */

/**
 * Lambda failed to run our code (throttled, internal error, SDK client error in the service).
 * The function never reached a decision, so the same input can be sent again safely (I4).
 */
export const LambdaServiceErrors = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * Errors on which unsealing one node is deliberately NOT retried: the same shares fail the same
 * way (Vault refused the combination, or KMS refused the ciphertext/context), so a retry would
 * only loop. They go to the Catch, which records the node as failed for the report and the event.
 */
export const TerminalUnsealErrors = [ErrorNames.UnsealKeySetRejected, ErrorNames.ShareDecrypt] as const;

/**
 * Transient failures while unsealing one node: the node is restarting or briefly unreachable,
 * rate-limited, or KMS/DynamoDB throttled us.
 *
 * Numbers: a Vault pod that restarts answers again within seconds, so 2 s, 4 s (3 attempts,
 * about 6 s of waiting) covers the common case; longer is pointless because the schedule starts
 * a fresh run every minute anyway, and a run must stay well inside that minute so runs do not
 * pile up. AwsUnavailableError is here because the node's step reads the share table
 * (DynamoDB throttling), which the contract classifies as retryable.
 */
export const UnsealTransientRetry: RetryProps = {
  errors: [
    ErrorNames.VaultUnavailable,
    ErrorNames.KmsUnavailable,
    ErrorNames.VaultRateLimited,
    ErrorNames.AwsUnavailable,
    ...LambdaServiceErrors,
  ],
  interval: Duration.seconds(2),
  maxAttempts: 3,
  backoffRate: 2,
};

/**
 * Lambda service errors around the discover and report steps, which only read: one quick retry
 * (1 s, then 2 s) rides out a throttle; anything longer is better left to the next scheduled run.
 */
export const LambdaServiceRetry: RetryProps = {
  errors: [...LambdaServiceErrors],
  interval: Duration.seconds(1),
  maxAttempts: 2,
  backoffRate: 2,
};

/**
 * PutEvents to the certflow bus: failures are throttling or a transient service error. Two
 * retries (1 s, 2 s) are enough; a duplicate event after an ambiguous failure is acceptable
 * because EventBridge already delivers at least once, so consumers must be idempotent.
 */
export const EventPublishRetry: RetryProps = {
  errors: ['States.TaskFailed'],
  interval: Duration.seconds(1),
  maxAttempts: 2,
  backoffRate: 2,
};

/**
 * Errors of the rotation steps that mark a verdict, not an outage, so no Retry ever matches them:
 * the same input gives the same answer, and the Catch sends the run to rollback instead.
 * - VerificationFailedError: a renewed target failed its chain, name, key or handshake check.
 * - RolloutTimeoutError: a batch's wait loop reached its bound (CheckBatch, or the Choice on `exhausted`).
 * - IssuerStateConflictError: someone moved the default issuer by hand mid-run.
 * - IntermediateInvalidError: the new intermediate does not verify; it is never activated.
 * - IssuerLimitReachedError: the mount is at pki.maxIssuersPerMount; only hygiene frees a slot.
 * - InvalidInputError: a payload failed its schema.
 * - KubernetesConflictError: the adapter already re-read and retried its whole budget against
 *   another writer (errors.ts), so retrying here would race the same writer again.
 * - TargetRefusedError: a ledger item is not what the target policy declares (a forgery).
 */
export const TerminalRotationErrors = [
  ErrorNames.VerificationFailed,
  ErrorNames.RolloutTimeout,
  ErrorNames.IssuerStateConflict,
  ErrorNames.IntermediateInvalid,
  ErrorNames.IssuerLimitReached,
  ErrorNames.InvalidInput,
  ErrorNames.KubernetesConflict,
  ErrorNames.TargetRefused,
] as const;

/**
 * Transient failures of any rotation step: Vault, KMS, the Kubernetes API, a service endpoint or an
 * AWS API briefly unreachable or throttling us, or Lambda failing to run the function.
 *
 * Numbers: every rotation step is idempotent with the same input (I4), so repeating it is safe.
 * 2 s, 4 s, 8 s (about 14 s of waiting) covers a Vault leader election, an API server's rolling
 * restart and a pod that is being rescheduled behind its Service. An outage longer than that is
 * better met by rolling back (or, before anything changed, by stopping) than by holding a run
 * open: the next daily run tries again from a fresh plan.
 */
export const RotationTransientRetry: RetryProps = {
  errors: [
    ErrorNames.VaultUnavailable,
    ErrorNames.VaultRateLimited,
    ErrorNames.KmsUnavailable,
    ErrorNames.AwsUnavailable,
    ErrorNames.KubernetesUnavailable,
    ErrorNames.EndpointUnreachable,
    ...LambdaServiceErrors,
  ],
  interval: Duration.seconds(2),
  maxAttempts: 3,
  backoffRate: 2,
};

/**
 * Vault sealed mid-run (a node restarted). The Unseal workflow starts every minute and unseals a
 * node within seconds, so waiting 15 s, 30 s, 60 s (105 s in all) spans one full schedule period
 * plus that run's own retries, with margin; a Vault still sealed after that is an outage the
 * VaultSealed alarm already reports, and the run rolls back.
 */
export const VaultSealedRetry: RetryProps = {
  errors: [ErrorNames.VaultSealed],
  interval: Duration.seconds(15),
  maxAttempts: 3,
  backoffRate: 2,
};

/**
 * The rotation lock's own DynamoDB calls (PutItem to acquire, DeleteItem to release) on the
 * on-demand ledger table: throttling only happens on a sudden burst, and a 5xx is rare and short.
 * 1 s, 2 s, 4 s is plenty. Retrying is safe because both writes are conditional on the owner: the
 * acquire is re-entrant for the same execution (a retry after a write that landed still succeeds)
 * and a repeated release fails its condition, which the workflow treats as "not ours any more".
 * `DynamoDB.ConditionalCheckFailedException` itself is never retried: it is the lock's answer.
 */
export const LockTableRetry: RetryProps = {
  errors: [
    'DynamoDB.ProvisionedThroughputExceededException',
    'DynamoDB.RequestLimitExceeded',
    'DynamoDB.ThrottlingException',
    'DynamoDB.InternalServerErrorException',
  ],
  interval: Duration.seconds(1),
  maxAttempts: 3,
  backoffRate: 2,
};
