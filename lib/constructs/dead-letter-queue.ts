import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * The dead-letter queue of a schedule or rule: encrypted, SSL-only, kept 14 days, named
 * `DeadLetterQueue` under its owner (so logical ids stay stable). cdk-nag's SQS3 and Serverless'
 * redrive-policy finding (a DLQ for the queue) are acknowledged here, once: a dead-letter queue of a dead-letter queue has nothing to catch.
 *
 * @param options.ofFunction the queue is a Lambda function's DeadLetterConfig target.
 * @param catches what ends up in it, for the acknowledgement's reason (e.g. "the unseal schedule's failed starts").
 */
export function deadLetterQueue(owner: Construct, catches: string, options: { ofFunction?: boolean } = {}): sqs.Queue {
  const queue = new sqs.Queue(owner, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const reason = `This queue is itself the dead-letter queue of ${catches}; a dead-letter queue of a dead-letter queue has nothing to catch.`;
  // AwsSolutions-SQS3 already recognizes a function's dead-letter queue (DeadLetterConfig); Serverless does not.
  if (!options.ofFunction) Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason });
  Validations.of(queue).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason });
  return queue;
}
