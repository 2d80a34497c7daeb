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
