import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { KEY_ADMIN_ACTIONS } from './unseal-keys';

export interface NotificationsProps {
  /** Deployment name (config.name), shown in the topic's display name. */
  readonly deploymentName: string;
}

/**
 * The SNS topic every certflow alarm notifies, encrypted with its own customer-managed key (the
 * unseal key stays reserved for shares) and accepting SSL publishes only.
 */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'certflow: encrypts the alarm notification topic',
      enableKeyRotation: true,
      // Not the CDK default (kms:* for the account root): administration only, so no identity
      // policy in the account can use the key through it (issue 13, no wildcard grant).
      policy: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({ sid: 'KeyAdministration', principals: [new iam.AccountRootPrincipal()], actions: KEY_ADMIN_ACTIONS, resources: ['*'] })],
      }),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish to an encrypted topic only if CloudWatch may use its key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `certflow ${props.deploymentName}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    // The topic policy that enforceSSL creates replaces SNS's default one, so CloudWatch alarms of
    // this account are allowed to publish explicitly.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccountPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
        },
      }),
    );
  }

  /**
   * Lets one EventBridge rule of this account publish to the encrypted topic: the key for
   * EventBridge, for that rule's ARN only (the SnsTopic target adds the topic policy's publish
   * statement; the key is what it cannot add). The ARN is spelled out from the rule's bus and
   * name, not referenced: the rule refers to the topic, which refers to this key.
   */
  allowEventRule(busName: string, ruleName: string): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeRulesPublishToEncryptedTopic',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnEquals: { 'aws:SourceArn': `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/${busName}/${ruleName}` } },
      }),
    );
  }
}
