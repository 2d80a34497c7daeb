import { CfnOutput, type CfnResource, Duration, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { EnvNames, PkiEnvNames } from '../functions/contracts/env';
import { FunctionIds, PreemptEnvNames, functionsOf, vaultIdentityOf, type FunctionId } from '../functions/contracts/functions';
import { RotationEnvNames } from '../functions/contracts/rotation-env';
import type { CertflowConfig } from './config';
import { stormControlOf } from './storm-control';
import { pkiEnvironment as pkiEnvironmentOf, vaultAuthOf } from './pki-environment';
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
import { EventNotifications } from './constructs/event-notifications';
import { UnsealKeys } from './constructs/unseal-keys';
import { UnsealSchedule } from './constructs/unseal-schedule';
import { UnsealWorkflow } from './constructs/unseal-workflow';
import { AuditAlarms } from './constructs/audit-alarms';
import { EksAccessEntries } from './constructs/eks-access-entries';
import { LogKey } from './constructs/log-key';
import { NetworkPlacement } from './constructs/network-placement';
import { TableBackups } from './constructs/table-backups';
import { ExpiryAlarms } from './constructs/expiry-alarms';
import { ExpirySchedule } from './constructs/expiry-schedule';
import { ExpiryWorkflow } from './constructs/expiry-workflow';
import { ExpiryEnvNames } from '../functions/contracts/expiry';

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
  ExpiryStateMachineArn: 'ExpiryStateMachineArn',
  EventBusName: 'EventBusName',
  ShareTableName: 'ShareTableName',
  LedgerTableName: 'LedgerTableName',
  UnsealKeyArn: 'UnsealKeyArn',
  NotificationTopicArn: 'NotificationTopicArn',
  PlanFunctionName: 'PlanFunctionName',
} as const;

/** The certflow stack: composes one construct per concern, nothing more. */
export class CertflowStack extends Stack {
  readonly unsealWorkflow: UnsealWorkflow;
  readonly rotationWorkflow: RotationWorkflow;
  readonly compromiseWorkflow: CompromiseWorkflow;
  readonly expiryWorkflow: ExpiryWorkflow;

  constructor(scope: Construct, id: string, props: CertflowStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('certflow:deployment', config.name);

    // `role/<name>` is a role of the deployment account: the template stays account-agnostic.
    const roleArn = (entry: string) => (entry.startsWith('arn:') ? entry : `arn:${this.partition}:iam::${this.account}:${entry}`);
    // Who administers every certflow key: the configured admin roles and the CloudFormation
    // execution role (config kms), or the account root when no admin role is named.
    const keyAdministration = {
      ...(config.kms.adminRoles ? { adminRoleArns: config.kms.adminRoles.map(roleArn) } : {}),
      ...(config.kms.cloudFormationExecutionRole ? { cloudFormationExecutionRoleArn: roleArn(config.kms.cloudFormationExecutionRole) } : {}),
    };
    const keys = new UnsealKeys(this, 'UnsealKeys', {
      clusterId: config.vault.clusterId,
      keyAlias: config.kms.unsealKeyAlias,
      operatorRoleArns: config.kms.operatorRoles.map(roleArn),
      ...keyAdministration,
    });
    const ledger = new Ledger(this, 'Ledger');
    // Both tables in an AWS Backup plan, kept as long as the logs.
    new TableBackups(this, 'TableBackups', { deploymentName: config.name, tables: [keys.shareTable, ledger.table], retention: Duration.days(config.logs.retentionDays) });
    // The archive keeps certflow's and its reporters' events as long as the logs.
    const bus = new CertflowEventBus(this, 'EventBus', { deploymentName: config.name, archiveRetention: Duration.days(config.logs.retentionDays) });

    // Values that may change without a deployment reach the functions through SSM parameters.
    const runTime = new RunTimeParameters(this, 'RunTimeValues', { deploymentName: config.name, keyAdministration });
    const clustersValue = runTime.clustersValue(config.kubernetes.clusters);
    const unsealEnvironment: Record<string, string> = {
      [EnvNames.VaultClusterId]: config.vault.clusterId,
      // The Vault CA from config, pinned by every function that talks to Vault (issue 13 item 1); a
      // run-time value, so an operator (or the sandbox, with its own CA) can replace it.
      [EnvNames.VaultCaPem]: config.vault.caCertificate,
      ...(config.vault.nodes ? { [EnvNames.VaultNodes]: JSON.stringify(config.vault.nodes) } : {}),
      // Discovery reads the Vault StatefulSet's pods in its cluster, reached as the rotation reaches it.
      ...(config.vault.discovery ? { [EnvNames.VaultDiscovery]: JSON.stringify(config.vault.discovery), [RotationEnvNames.Clusters]: clustersValue } : {}),
      // The configured identity UnsealNode and Preflight check before a share leaves KMS (issue 13 item 1).
      [EnvNames.VaultThreshold]: String(config.vault.threshold),
      [EnvNames.VaultShares]: String(config.vault.shares),
      ...(config.vault.reportedClusterId ? { [EnvNames.VaultReportedClusterId]: config.vault.reportedClusterId } : {}),
      [EnvNames.UnsealKeyId]: keys.key.keyArn,
      [EnvNames.ShareTable]: keys.shareTable.tableName,
    };
    const pkiEnvironment = pkiEnvironmentOf(config);
    const kubernetesEnvironment: Record<string, string> = {
      [RotationEnvNames.LedgerTable]: ledger.table.tableName,
      [RotationEnvNames.EventBus]: bus.bus.eventBusName,
      [RotationEnvNames.Clusters]: clustersValue,
      [RotationEnvNames.TrustBundleConfigMap]: config.kubernetes.trustBundleConfigMap,
      [RotationEnvNames.BatchSize]: String(config.policy.batchSize),
      [RotationEnvNames.TargetConcurrency]: String(config.policy.targetConcurrency),
      [RotationEnvNames.StormControl]: JSON.stringify(stormControlOf(config.policy)),
      [RotationEnvNames.Namespace]: config.kubernetes.namespace,
      [RotationEnvNames.TargetPolicy]: JSON.stringify(config.kubernetes.targets),
      [RotationEnvNames.MaxRolloutChecks]: String(config.policy.maxRolloutChecks),
    };
    // The rotation steps reach Vault (Preflight may unseal), the PKI mounts and the clusters.
    const rotationEnvironment = { ...unsealEnvironment, ...pkiEnvironment, ...kubernetesEnvironment };
    // Each function logs in to Vault as its group (or not at all): its own auth role, its own policy.
    const withVaultIdentity = (functionId: FunctionId, variables: Record<string, string>) => ({ ...variables, [PkiEnvNames.VaultAuth]: JSON.stringify(vaultAuthOf(config, vaultIdentityOf(functionId))) });
    const environment: Partial<Record<FunctionId, Record<string, string>>> = {
      ...Object.fromEntries(functionsOf('unseal').map((functionId) => [functionId, runTime.byReference(unsealEnvironment)])),
      ...Object.fromEntries(functionsOf('pki').map((functionId) => [functionId, runTime.byReference(withVaultIdentity(functionId, pkiEnvironment))])),
      ...Object.fromEntries(functionsOf('rotation').map((functionId) => [functionId, runTime.byReference(withVaultIdentity(functionId, rotationEnvironment))])),
      // The expiry sweep's functions each get only what their one job reads (issue 16 item 1).
      ExpiryTargets: runTime.byReference({
        [RotationEnvNames.Clusters]: kubernetesEnvironment[RotationEnvNames.Clusters]!,
        [RotationEnvNames.TargetPolicy]: kubernetesEnvironment[RotationEnvNames.TargetPolicy]!,
        [RotationEnvNames.TargetConcurrency]: kubernetesEnvironment[RotationEnvNames.TargetConcurrency]!,
        [PkiEnvNames.KeyAlgorithm]: pkiEnvironment[PkiEnvNames.KeyAlgorithm] ?? config.pki.keyAlgorithm,
      }),
      ExpiryIssuers: runTime.byReference(withVaultIdentity('ExpiryIssuers', pkiEnvironment)),
      ExpiryReport: {
        [EnvNames.VaultClusterId]: config.vault.clusterId,
        [ExpiryEnvNames.LeafAlarmDays]: String(config.alarms.expiryDays),
        [ExpiryEnvNames.CaAlarmDays]: JSON.stringify(config.alarms.caExpiryDays),
      },
    };
    // One retention for every log group (config logs.retentionDays; one year by default).
    const logRetention = config.logs.retentionDays as logs.RetentionDays;
    // Every log group is encrypted under certflow's own log key.
    const logKey = new LogKey(this, 'LogKey', keyAdministration).key;
    const network = config.network.vpc === 'none' ? { none: config.network.reason! } : { placement: new NetworkPlacement(this, 'Network', { vpc: config.network.vpc }) };
    const reservedConcurrency = Object.fromEntries(FunctionIds.map((functionId) => [functionId, config.functions.reservedConcurrencyOf[functionId] ?? config.functions.reservedConcurrency])) as Record<FunctionId, number>;
    const functions = new CertflowFunctions(this, 'Functions', {
      deploymentName: config.name,
      logRetention,
      logKey,
      reservedConcurrency,
      network,
      // The stale-lock rule invokes ReleaseStaleLock asynchronously; every other function is a state machine task.
      asynchronous: ['ReleaseStaleLock'],
      environment,
    });
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
    grantSecretReads(FunctionIds.filter((functionId) => vaultIdentityOf(functionId) !== undefined).map((functionId) => functions.get(functionId)), secrets.vaultAuth);
    grantSecretReads(functionsOf('rotation').map((functionId) => functions.get(functionId)), secrets.clusters);
    grantSecretReads([functions.get('ExpiryIssuers')], secrets.vaultAuth);
    grantSecretReads([functions.get('ExpiryTargets')], secrets.clusters);
    // With discovery the Unseal functions list the Vault pods: they read that cluster's credential too.
    if (config.vault.discovery) grantSecretReads(functionsOf('unseal').map((functionId) => functions.get(functionId)), configSecrets({ ...config, kubernetes: { ...config.kubernetes, clusters: config.kubernetes.clusters.filter((cluster) => cluster.name === config.vault.discovery?.cluster) } }).clusters);

    this.unsealWorkflow = new UnsealWorkflow(this, 'UnsealWorkflow', {
      logRetention,
      logKey,
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
    // The events a person acts on reach the same topic as the alarms, each naming its run and runbook step.
    new EventNotifications(this, 'EventNotifications', { bus: bus.bus, topic: notifications.topic, topicKey: notifications.key, deploymentName: config.name });
    new UnsealAlarms(this, 'UnsealAlarms', {
      deploymentName: config.name,
      clusterId: config.vault.clusterId,
      sealedMinutes: config.alarms.sealedMinutes,
      stateMachine: this.unsealWorkflow.stateMachine,
      topic: notifications.topic,
      deadLetterQueue: schedule.deadLetterQueue,
    });

    // The Rotation's batches run in waves, each a RotationWave execution with its own history.
    // What the Rotation and its waves share: the functions, the ledger, the bus and the pacing.
    const rotationShared = {
      logRetention,
      logKey,
      deploymentName: config.name,
      functions: functions.all,
      ledgerTable: ledger.table,
      eventBus: bus.bus,
      concurrency: config.policy.concurrency,
      checkInterval: ROTATION_CHECK_INTERVAL,
      timeout: ROTATION_TIMEOUT,
    };
    const rotationWave = new RotationWave(this, 'RotationWave', rotationShared);
    this.rotationWorkflow = new RotationWorkflow(this, 'RotationWorkflow', {
      ...rotationShared,
      wave: rotationWave,
      batchesPerWave: batchesPerWave(config.policy.maxRolloutChecks),
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
      logKey,
      deploymentName: config.name,
      functions: functions.all,
      ledgerTable: ledger.table,
      eventBus: bus.bus,
      concurrency: config.policy.concurrency,
      intermediateApproval: { automatic: config.compromise.intermediateApproval.automatic, timeout: Duration.minutes(config.compromise.intermediateApproval.timeoutMinutes) },
    });
    // An aborted or timed-out response holds the lock as a rotation would: the same rule frees it.
    lockRelease.alsoFor(this.compromiseWorkflow.stateMachine);
    const compromiseRule = new CompromiseRule(this, 'CompromiseRule', {
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

    new AuditAlarms(this, 'AuditAlarms', {
      deploymentName: config.name,
      eventBus: bus.bus,
      eventBusName: `certflow-${config.name}`,
      compromiseStateMachine: this.compromiseWorkflow.stateMachine,
      compromiseDeadLetterQueue: compromiseRule.deadLetterQueue,
      lockReleaseFailures: functions.failureQueue('ReleaseStaleLock'),
      notifications,
    });

    // EKS clusters that ask for it map the Kubernetes-facing roles to rbac.yaml's user.
    const eksClusters = config.kubernetes.clusters.flatMap((cluster) => (cluster.auth === 'eks' && cluster.accessEntries ? [{ name: cluster.name, accessEntries: cluster.accessEntries }] : []));
    if (eksClusters.length > 0) {
      new EksAccessEntries(this, 'EksAccessEntries', { clusters: eksClusters, roles: Object.fromEntries(functionsOf('rotation').map((functionId) => [functionId, functions.get(functionId).role!])) });
    }

    this.expiryWorkflow = new ExpiryWorkflow(this, 'ExpiryWorkflow', {
      logRetention,
      logKey,
      deploymentName: config.name,
      targetsFunction: functions.get('ExpiryTargets'),
      issuersFunction: functions.get('ExpiryIssuers'),
      reportFunction: functions.get('ExpiryReport'),
      eventBus: bus.bus,
    });
    const expirySchedule = new ExpirySchedule(this, 'ExpirySchedule', { stateMachine: this.expiryWorkflow.stateMachine, expression: config.schedules.expirySweep });
    new ExpiryAlarms(this, 'ExpiryAlarms', {
      deploymentName: config.name,
      clusterId: config.vault.clusterId,
      leafDays: config.alarms.expiryDays,
      caDays: config.alarms.caExpiryDays,
      stateMachine: this.expiryWorkflow.stateMachine,
      scheduleDeadLetterQueue: expirySchedule.deadLetterQueue,
      topic: notifications.topic,
    });

    new CertflowDashboard(this, 'Dashboard', { deploymentName: config.name, clusterId: config.vault.clusterId, nodeIds: (config.vault.nodes ?? []).map((node) => node.id), stateMachines: { Unseal: this.unsealWorkflow.stateMachine, Rotation: this.rotationWorkflow.stateMachine, Compromise: this.compromiseWorkflow.stateMachine, Expiry: this.expiryWorkflow.stateMachine } });

    const output = (name: keyof typeof StackOutputs, value: string, description: string) =>
      new CfnOutput(this, StackOutputs[name], { value, description });
    output('UnsealStateMachineArn', this.unsealWorkflow.stateMachine.stateMachineArn, 'The Unseal state machine');
    output('RotationStateMachineArn', this.rotationWorkflow.stateMachine.stateMachineArn, 'The Rotation state machine');
    output('CompromiseStateMachineArn', this.compromiseWorkflow.stateMachine.stateMachineArn, 'The CompromiseResponse state machine');
    output('ExpiryStateMachineArn', this.expiryWorkflow.stateMachine.stateMachineArn, 'The ExpirySweep state machine');
    output('EventBusName', bus.bus.eventBusName, 'The certflow EventBridge bus');
    output('ShareTableName', keys.shareTable.tableName, 'DynamoDB table of the KMS-wrapped unseal shares');
    output('LedgerTableName', ledger.table.tableName, 'DynamoDB table of the rotation lock and ledger');
    output('UnsealKeyArn', keys.key.keyArn, 'KMS key that wraps the unseal shares');
    output('NotificationTopicArn', notifications.topic.topicArn, 'SNS topic of every certflow alarm');
    // `certflow plan --stack` invokes it with a dry-run input: the Plan step's decisions, nothing written.
    output('PlanFunctionName', functions.get('PlanRotation').functionName, 'The PlanRotation function (certflow plan --stack invokes it for a dry run)');
  }
}
