import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { CertflowConfig } from '../config';

/**
 * The Secrets Manager secrets the config refers to (by full ARN; lib/config.ts refuses inline
 * credentials), each with the environment that carries it to the functions: the Vault login
 * secret rides on the PKI environment, the cluster credentials on the Kubernetes one.
 */
export interface ConfigSecrets {
  /** `vault.auth.secretArn` (AppRole or token login), when the method uses one. */
  readonly vaultAuth: readonly string[];
  /** Every `kubernetes.clusters[].secretArn` and given `tokenSecretArn` (RunTimeParameters grants the token secrets it creates). */
  readonly clusters: readonly string[];
}

export function configSecrets(config: CertflowConfig): ConfigSecrets {
  const auth = config.vault.auth;
  const clusters = config.kubernetes.clusters.flatMap((cluster) =>
    cluster.auth === 'kubeconfig-secret' ? [cluster.secretArn] : cluster.auth === 'token' && cluster.tokenSecretArn ? [cluster.tokenSecretArn] : [],
  );
  return { vaultAuth: auth.method === 'aws-iam' ? [] : [auth.secretArn], clusters: [...new Set(clusters)] };
}

/**
 * Grants secretsmanager:GetSecretValue on exactly the given secret ARNs (no wildcard, no
 * DescribeSecret, no ListSecrets) to exactly the given functions: the ones whose environment
 * names the secret, so no other function can read it.
 */
export function grantSecretReads(functions: readonly lambda.IFunction[], secretArns: readonly string[]): void {
  if (secretArns.length === 0) return;
  for (const fn of functions) {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [...secretArns] }));
  }
}
