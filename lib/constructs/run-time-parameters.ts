import { Aws, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { ClusterSpec } from '../../functions/contracts/clusters';
import { keyAdministrators, type KeyAdministration } from './key-administrators';
import { KEY_ADMIN_ACTIONS } from './unseal-keys';
import { parameterVariableOf, runTimeParameterName, RunTimeValueNames, type RunTimeValueName } from '../../functions/contracts/run-time-values';

export interface RunTimeParametersProps {
  /** Deployment name: the parameters are `/certflow/<deployment>/<value>` (runTimeParameterName). */
  readonly deploymentName: string;
  /** Who administers the key of the token secrets (config kms). @default the account root */
  readonly keyAdministration?: KeyAdministration;
}

/**
 * The run-time values of contracts/run-time-values.ts, each in an SSM parameter this construct
 * declares with the config's value as its first value. A function's environment names the
 * parameter instead of carrying the value, and its role may `ssm:GetParameter` that parameter and
 * no other (no Describe, no GetParameters on a path), so the template shows where each value comes
 * from and who reads it. An operator (or the sandbox, with its own addresses) changes a value by
 * writing the parameter; functions read it at their next cold start.
 *
 * A `token` cluster that the config gives no credential gets a Secrets Manager secret of its own,
 * which the operator fills with the service account's token: the clusters value names it by ARN
 * and never holds a token, and only the functions that read the clusters may read it.
 */
export class RunTimeParameters extends Construct {
  private readonly parameters = new Map<RunTimeValueName, ssm.StringParameter>();
  private readonly tokenSecrets: secretsmanager.Secret[] = [];
  private tokenKey: kms.Key | undefined;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RunTimeParametersProps,
  ) {
    super(scope, id);
  }

  /**
   * The clusters as the functions read them: each `token` cluster without a credential names the
   * token secret declared here. The value holds a token of the template (the secret's ARN), so
   * it is rendered with Stack.toJsonString.
   */
  clustersValue(clusters: readonly Record<string, unknown>[]): string {
    const specs = clusters.map((cluster) => {
      if (cluster.auth !== 'token' || cluster.token !== undefined || cluster.tokenSecretArn !== undefined) return cluster;
      const name = String(cluster.name);
      const secret = new secretsmanager.Secret(this, `ClusterToken-${name}`, {
        secretName: `certflow/${this.props.deploymentName}/clusters/${name}/token`,
        description: `certflow: the bearer token of Kubernetes cluster ${name} (the operator puts the service account's token here)`,
        encryptionKey: this.tokenSecretsKey(),
      });
      const reason = 'A service-account token issued by the cluster: it is rotated where it is issued (the cluster), then written here; Secrets Manager has no rotation function for it.';
      Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason }, { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason });
      this.tokenSecrets.push(secret);
      return { ...cluster, tokenSecretArn: secret.secretArn } satisfies Partial<ClusterSpec> & Record<string, unknown>;
    });
    return Stack.of(this).toJsonString(specs);
  }

  /**
   * `environment` with every run-time value moved into its parameter: the value's variable is
   * replaced by `<VARIABLE>_PARAMETER`, the parameter's name. The first environment to carry a
   * value creates its parameter; functions of the same deployment share it.
   */
  byReference(environment: Readonly<Record<string, string>>): Record<string, string> {
    const result: Record<string, string> = { ...environment };
    for (const variable of RunTimeValueNames) {
      const value = environment[variable];
      if (value === undefined) continue;
      delete result[variable];
      result[parameterVariableOf(variable)] = this.parameterOf(variable, value).parameterName;
    }
    return result;
  }

  /**
   * Lets `grantee` read exactly the parameters its `environment` (as byReference returned it)
   * names, and the cluster token secrets when it reads the clusters.
   */
  grantRead(grantee: iam.IGrantable, environment: Readonly<Record<string, string>>): void {
    const arns = RunTimeValueNames.filter((variable) => environment[parameterVariableOf(variable)] !== undefined).map((variable) => this.parameters.get(variable)!.parameterArn);
    if (arns.length > 0) grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: arns }));
    if (environment[parameterVariableOf('CERTFLOW_CLUSTERS')] !== undefined && this.tokenSecrets.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: this.tokenSecrets.map((secret) => secret.secretArn) }));
      // Secrets Manager decrypts the value with the caller's permission on the key, through itself only.
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.tokenKey!.keyArn], conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.${Aws.URL_SUFFIX}` } } }),
      );
    }
  }

  /**
   * The customer managed key of the token secrets (one for all of them): administered by the
   * configured admins, used by the account's principals only through Secrets Manager (each
   * function's identity policy still names the key, above), never directly.
   */
  private tokenSecretsKey(): kms.Key {
    this.tokenKey ??= new kms.Key(this, 'TokenSecretsKey', {
      description: `certflow ${this.props.deploymentName}: encrypts the Kubernetes token secrets`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ sid: 'KeyAdministration', principals: keyAdministrators(this, this.props.keyAdministration ?? {}), actions: KEY_ADMIN_ACTIONS, resources: ['*'] }),
          new iam.PolicyStatement({
            sid: 'SecretsThroughSecretsManagerOnly',
            principals: [new iam.AccountRootPrincipal()],
            actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'],
            resources: ['*'],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.${Aws.URL_SUFFIX}`, 'kms:CallerAccount': Aws.ACCOUNT_ID } },
          }),
        ],
      }),
    });
    return this.tokenKey;
  }

  private parameterOf(variable: RunTimeValueName, value: string): ssm.StringParameter {
    let parameter = this.parameters.get(variable);
    if (!parameter) {
      parameter = new ssm.StringParameter(this, variable, {
        parameterName: runTimeParameterName(this.props.deploymentName, variable),
        stringValue: value,
        description: `certflow ${this.props.deploymentName}: ${variable}, read by the functions at cold start`,
        // A large target policy outgrows the standard tier's 4 KB; intelligent tiering moves only
        // such a parameter to the advanced tier (8 KB).
        tier: ssm.ParameterTier.INTELLIGENT_TIERING,
      });
      this.parameters.set(variable, parameter);
    }
    return parameter;
  }
}
