import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * The dead-letter queue of a schedule or rule: encrypted, SSL-only, kept 14 days, named
 * `DeadLetterQueue` under its owner (so logical ids stay stable). cdk-nag's SQS3 (a DLQ for the
 * queue) is acknowledged here, once: a dead-letter queue of a dead-letter queue has nothing to catch.
 *
 * @param catches what ends up in it, for the acknowledgement's reason (e.g. "the unseal schedule's failed starts").
 */
export function deadLetterQueue(owner: Construct, catches: string): sqs.Queue {
  const queue = new sqs.Queue(owner, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of ${catches}; a dead-letter queue of a dead-letter queue has nothing to catch.`,
  });
  return queue;
}
