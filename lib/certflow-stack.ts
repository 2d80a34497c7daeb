import { CfnOutput, type CfnResource, Duration, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { EnvNames } from '../functions/contracts/env';
import { PreemptEnvNames, functionsOf, type FunctionId } from '../functions/contracts/functions';
import { RotationEnvNames } from '../functions/contracts/rotation-env';
import type { CertflowConfig } from './config';
import { pkiEnvironment as pkiEnvironmentOf } from './pki-environment';
import { UnsealAlarms } from './constructs/alarms';
import { CertflowDashboard } from './dashboards/cloudwatch-dashboard';
import { CompromiseRule } from './constructs/compromise-rule';
import { CompromiseAlarms, CompromiseWorkflow } from './constructs/compromise-workflow';
import { CertflowFunctions } from './constructs/certflow-functions';
import { CertflowEventBus } from './constructs/event-bus';
import { Ledger } from './constructs/ledger';
import { LockReleaseRule } from './constructs/lock-release-rule';
import { Notifications } from './constructs/notifications';
import { RotationAlarms } from './constructs/rotation-alarms';
import { RotationSchedule } from './constructs/rotation-schedule';
import { batchesPerWave } from './constructs/history-budget';
import { RotationWave } from './constructs/rotation-wave';
import { RotationWorkflow } from './constructs/rotation-workflow';
import { RunTimeParameters } from './constructs/run-time-parameters';
import { configSecrets, grantSecretReads } from './constructs/secret-reads';
import { UnsealKeys } from './constructs/unseal-keys';
import { UnsealSchedule } from './constructs/unseal-schedule';
import { UnsealWorkflow } from './constructs/unseal-workflow';

/** How often a Rotation looks at a rollout, and how long one run (and one wave of it) may take. */
const ROTATION_CHECK_INTERVAL = Duration.seconds(5);
const ROTATION_TIMEOUT = Duration.hours(2);

export interface CertflowStackProps extends StackProps {
  /** The validated deployment config. */
  readonly config: CertflowConfig;
}

/** Names of the stack outputs (the CLI reads them). */
export const StackOutputs = {
  UnsealStateMachineArn: 'UnsealStateMachineArn',
  RotationStateMachineArn: 'RotationStateMachineArn',
  CompromiseStateMachineArn: 'CompromiseStateMachineArn',
  EventBusName: 'EventBusName',
  ShareTableName: 'ShareTableName',
  LedgerTableName: 'LedgerTableName',
  UnsealKeyArn: 'UnsealKeyArn',
  NotificationTopicArn: 'NotificationTopicArn',
} as const;

/** The certflow stack: composes one construct per concern, nothing more. */
export class CertflowStack extends Stack {
  readonly unsealWorkflow: UnsealWorkflow;
  readonly rotationWorkflow: RotationWorkflow;
  readonly compromiseWorkflow: CompromiseWorkflow;

  constructor(scope: Construct, id: string, props: CertflowStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('certflow:deployment', config.name);

    // `role/<name>` is a role of the deployment account: the template stays account-agnostic.
    const roleArn = (entry: string) => (entry.startsWith('arn:') ? entry : `arn:${this.partition}:iam::${this.account}:${entry}`);
    const keys = new UnsealKeys(this, 'UnsealKeys', {
      clusterId: config.vault.clusterId,
      keyAlias: config.kms.unsealKeyAlias,
      operatorRoleArns: config.kms.operatorRoles.map(roleArn),
      ...(config.kms.adminRoles ? { adminRoleArns: config.kms.adminRoles.map(roleArn) } : {}),
    });
    const ledger = new Ledger(this, 'Ledger');
    const bus = new CertflowEventBus(this, 'EventBus', { deploymentName: config.name });

    // Values that may change without a deployment reach the functions through SSM parameters.
    const runTime = new RunTimeParameters(this, 'RunTimeValues', { deploymentName: config.name });
    const unsealEnvironment: Record<string, string> = {
      [EnvNames.VaultClusterId]: config.vault.clusterId,
      [EnvNames.VaultNodes]: JSON.stringify(config.vault.nodes),
      // The configured identity UnsealNode and Preflight check before a share leaves KMS (issue 13 item 1).
      [EnvNames.VaultThreshold]: String(config.vault.threshold),
      [EnvNames.VaultShares]: String(config.vault.shares),
      ...(config.vault.reportedClusterId ? { [EnvNames.VaultReportedClusterId]: config.vault.reportedClusterId } : {}),
      [EnvNames.UnsealKeyId]: keys.key.keyArn,
      [EnvNames.ShareTable]: keys.shareTable.tableName,
    };
    // The Vault CA from config, pinned by every function that talks to Vault (issue 13 item 1).
    if (config.vault.caCertificate) unsealEnvironment[EnvNames.VaultCaPem] = config.vault.caCertificate;
    const pkiEnvironment = pkiEnvironmentOf(config);
    const kubernetesEnvironment: Record<string, string> = {
      [RotationEnvNames.LedgerTable]: ledger.table.tableName,
      [RotationEnvNames.EventBus]: bus.bus.eventBusName,
      [RotationEnvNames.Clusters]: runTime.clustersValue(config.kubernetes.clusters),
      [RotationEnvNames.TrustBundleConfigMap]: config.kubernetes.trustBundleConfigMap,
      [RotationEnvNames.BatchSize]: String(config.policy.batchSize),
      [RotationEnvNames.TargetConcurrency]: String(config.policy.targetConcurrency),
      [RotationEnvNames.Namespace]: config.kubernetes.namespace,
      [RotationEnvNames.TargetPolicy]: JSON.stringify(config.kubernetes.targets),
      [RotationEnvNames.MaxRolloutChecks]: String(config.policy.maxRolloutChecks),
    };
    // The rotation steps reach Vault (Preflight may unseal), the PKI mounts and the clusters.
    const rotationEnvironment = { ...unsealEnvironment, ...pkiEnvironment, ...kubernetesEnvironment };
    const environment: Partial<Record<FunctionId, Record<string, string>>> = {
      ...Object.fromEntries(functionsOf('unseal').map((functionId) => [functionId, runTime.byReference(unsealEnvironment)])),
      ...Object.fromEntries(functionsOf('pki').map((functionId) => [functionId, runTime.byReference(pkiEnvironment)])),
      ...Object.fromEntries(functionsOf('rotation').map((functionId) => [functionId, runTime.byReference(rotationEnvironment)])),
    };
    // One retention for every log group (config logs.retentionDays; one year by default).
    const logRetention = config.logs.retentionDays as logs.RetentionDays;
    const functions = new CertflowFunctions(this, 'Functions', { deploymentName: config.name, logRetention, environment });
    for (const [functionId, variables] of Object.entries(environment)) runTime.grantRead(functions.get(functionId as FunctionId), variables);
    // UnsealNode unseals on schedule; Preflight unseals a node it finds sealed before a rotation.
    keys.allowUnseal([functions.get('UnsealNode'), functions.get('Preflight')]);
    // The rotation steps keep their batches, backups list and run records in the ledger, and
    // ReleaseStaleLock deletes the lock item there.
    for (const functionId of functionsOf('rotation')) ledger.table.grantReadWriteData(functions.get(functionId));
    // The kill switch (functions/contracts/pause.ts) sits in the ledger table: UnsealNode reads it
    // before any share leaves KMS (the rotation functions already read and write the table).
    functions.get('UnsealNode').addEnvironment(EnvNames.LedgerTable, ledger.table.tableName);
    ledger.table.grant(functions.get('UnsealNode'), 'dynamodb:GetItem');
    // Secrets by reference only: each is readable by exactly the functions whose environment names it.
    const secrets = configSecrets(config);
    grantSecretReads([...functionsOf('pki'), ...functionsOf('rotation')].map((functionId) => functions.get(functionId)), secrets.vaultAuth);
    grantSecretReads(functionsOf('rotation').map((functionId) => functions.get(functionId)), secrets.clusters);

    this.unsealWorkflow = new UnsealWorkflow(this, 'UnsealWorkflow', {
      logRetention,
      deploymentName: config.name,
      discoverFunction: functions.get('UnsealDiscover'),
      unsealNodeFunction: functions.get('UnsealNode'),
      reportFunction: functions.get('UnsealReport'),
      eventBus: bus.bus,
    });
    const schedule = new UnsealSchedule(this, 'UnsealSchedule', {
      stateMachine: this.unsealWorkflow.stateMachine,
      expression: config.schedules.unseal,
    });

    const notifications = new Notifications(this, 'Notifications', { deploymentName: config.name });
    new UnsealAlarms(this, 'UnsealAlarms', {
      deploymentName: config.name,
      clusterId: config.vault.clusterId,
      sealedMinutes: config.alarms.sealedMinutes,
      stateMachine: this.unsealWorkflow.stateMachine,
      topic: notifications.topic,
      deadLetterQueue: schedule.deadLetterQueue,
    });

    // The Rotation's batches run in waves, each a RotationWave execution with its own history.
    const rotationWave = new RotationWave(this, 'RotationWave', {
      logRetention,
      deploymentName: config.name,
      functions: functions.all,
      ledgerTable: ledger.table,
      eventBus: bus.bus,
      concurrency: config.policy.concurrency,
      checkInterval: ROTATION_CHECK_INTERVAL,
      timeout: ROTATION_TIMEOUT,
    });
    this.rotationWorkflow = new RotationWorkflow(this, 'RotationWorkflow', {
      logRetention,
      deploymentName: config.name,
      functions: functions.all,
      ledgerTable: ledger.table,
      eventBus: bus.bus,
      concurrency: config.policy.concurrency,
      wave: rotationWave,
      batchesPerWave: batchesPerWave(config.policy.maxRolloutChecks),
      checkInterval: ROTATION_CHECK_INTERVAL,
      timeout: ROTATION_TIMEOUT,
    });
    const rotationSchedule = new RotationSchedule(this, 'RotationSchedule', {
      stateMachine: this.rotationWorkflow.stateMachine,
      renewalSweepExpression: config.schedules.renewalSweep,
      intermediateRotationExpression: config.schedules.intermediateRotation,
    });
    const lockRelease = new LockReleaseRule(this, 'RotationLockRelease', {
      stateMachine: this.rotationWorkflow.stateMachine,
      releaseFunction: functions.get('ReleaseStaleLock'),
    });
    new RotationAlarms(this, 'RotationAlarms', {
      deploymentName: config.name,
      stateMachine: this.rotationWorkflow.stateMachine,
      topic: notifications.topic,
      scheduleDeadLetterQueue: rotationSchedule.deadLetterQueue,
      lockReleaseDeadLetterQueue: lockRelease.deadLetterQueue,
    });

    // The compromise response stops running rotations: only PreemptRotation learns the Rotation's
    // ARN (the Rotation never refers to the response, so the two machines form no cycle).
    const preemptFunction = functions.get('PreemptRotation');
    preemptFunction.addEnvironment(PreemptEnvNames.RotationStateMachineArn, this.rotationWorkflow.stateMachine.stateMachineArn);
    this.rotationWorkflow.stateMachine.grant(preemptFunction, 'states:ListExecutions');
    this.rotationWorkflow.stateMachine.grantExecution(preemptFunction, 'states:StopExecution');
    const rotationMachineId = this.resolve((this.rotationWorkflow.stateMachine.node.defaultChild as CfnResource).logicalId) as string;
    Validations.of(preemptFunction.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${rotationMachineId}"}]}]}:*]`,
      reason: 'StopExecution acts on execution ARNs, which exist only at run time: the wildcard is every execution of the Rotation state machine, and nothing else.',
    });
    this.compromiseWorkflow = new CompromiseWorkflow(this, 'CompromiseWorkflow', {
      logRetention,
      deploymentName: config.name,
      functions: functions.all,
      ledgerTable: ledger.table,
      eventBus: bus.bus,
      concurrency: config.policy.concurrency,
      intermediateApproval: { automatic: config.compromise.intermediateApproval.automatic, timeout: Duration.minutes(config.compromise.intermediateApproval.timeoutMinutes) },
    });
    // An aborted or timed-out response holds the lock as a rotation would: the same rule frees it.
    lockRelease.alsoFor(this.compromiseWorkflow.stateMachine);
    new CompromiseRule(this, 'CompromiseRule', {
      eventBus: bus.bus,
      stateMachine: this.compromiseWorkflow.stateMachine,
      // `role/<name>` is a role of the deployment account: the template stays account-agnostic.
      reporterPrincipalArns: config.compromise.reporterPrincipals.map((entry) => (entry.startsWith('arn:') ? entry : `arn:${this.partition}:iam::${this.account}:${entry}`)),
    });
    new CompromiseAlarms(this, 'CompromiseAlarms', {
      deploymentName: config.name,
      stateMachine: this.compromiseWorkflow.stateMachine,
      topic: notifications.topic,
    });

    new CertflowDashboard(this, 'Dashboard', { deploymentName: config.name, clusterId: config.vault.clusterId, nodeIds: config.vault.nodes.map((node) => node.id), stateMachines: { Unseal: this.unsealWorkflow.stateMachine, Rotation: this.rotationWorkflow.stateMachine, Compromise: this.compromiseWorkflow.stateMachine } });

    const output = (name: keyof typeof StackOutputs, value: string, description: string) =>
      new CfnOutput(this, StackOutputs[name], { value, description });
    output('UnsealStateMachineArn', this.unsealWorkflow.stateMachine.stateMachineArn, 'The Unseal state machine');
    output('RotationStateMachineArn', this.rotationWorkflow.stateMachine.stateMachineArn, 'The Rotation state machine');
    output('CompromiseStateMachineArn', this.compromiseWorkflow.stateMachine.stateMachineArn, 'The CompromiseResponse state machine');
    output('EventBusName', bus.bus.eventBusName, 'The certflow EventBridge bus');
    output('ShareTableName', keys.shareTable.tableName, 'DynamoDB table of the KMS-wrapped unseal shares');
    output('LedgerTableName', ledger.table.tableName, 'DynamoDB table of the rotation lock and ledger');
    output('UnsealKeyArn', keys.key.keyArn, 'KMS key that wraps the unseal shares');
    output('NotificationTopicArn', notifications.topic.topicArn, 'SNS topic of every certflow alarm');
  }
}
