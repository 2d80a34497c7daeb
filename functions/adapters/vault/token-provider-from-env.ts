import type NodeVault = require('node-vault');
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { Env, VaultAuth } from '../../contracts/env';
import { InvalidInputError, AwsUnavailableError, VaultPermissionError } from '../../contracts/errors';
import type { Clock } from '../../ports/clock';
import { awsClientConfigFromEnv } from '../aws/client-config';
import { appRoleLogin, awsIamLogin, CachedLogin, type TokenProvider } from './vault-login';

/**
 * The Vault token provider a Lambda uses, per the configured auth method (VAULT_API.md 6):
 * AWS IAM with the function's own role (nothing stored), or AppRole / a token read from
 * Secrets Manager. Built once per cold start; the token itself never leaves this object.
 */
export function tokenProviderFromEnv(auth: VaultAuth, client: NodeVault.client, env: Env, clock: Clock): TokenProvider {
  switch (auth.method) {
    case 'aws-iam': {
      const accessKeyId = env.AWS_ACCESS_KEY_ID;
      const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
      // An explicit env map (the local runner) wins; in Lambda the role's credentials come from the default chain.
      const credentials =
        accessKeyId && secretAccessKey
          ? async () => ({ accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) })
          : defaultProvider();
      return new CachedLogin(
        awsIamLogin(client, { role: auth.role, mount: auth.mount, stsRegion: auth.stsRegion, credentials, clock, ...(auth.serverIdHeader ? { serverIdHeader: auth.serverIdHeader } : {}) }),
        clock,
      );
    }
    case 'none':
      // A function outside every Vault identity group: a call that needs a token is a bug in the
      // grouping, refused typed (terminal) rather than tried with some other function's identity.
      return {
        token: async () => {
          throw new VaultPermissionError('this function has no Vault identity (contracts/functions.ts vaultIdentity): it may not log in to Vault');
        },
        invalidate: () => undefined,
      };
    case 'approle': {
      const secrets = new SecretsManagerClient(awsClientConfigFromEnv(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER'));
      return new CachedLogin(
        appRoleLogin(client, async () => {
          const value = JSON.parse(await readSecret(secrets, auth.secretArn)) as { role_id?: string; secret_id?: string };
          if (!value.role_id || !value.secret_id) throw new InvalidInputError(`secret ${auth.secretArn} must hold {"role_id","secret_id"}`);
          return { roleId: value.role_id, secretId: value.secret_id };
        }, auth.mount),
        clock,
      );
    }
    case 'token': {
      const secrets = new SecretsManagerClient(awsClientConfigFromEnv(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER'));
      // A stored token is used as it is (no lease known); a 403 drops it and reads the secret again.
      return new CachedLogin(async () => ({ token: (await readSecret(secrets, auth.secretArn)).trim(), leaseDuration: 0 }), clock);
    }
  }
}

async function readSecret(client: SecretsManagerClient, secretArn: string): Promise<string> {
  try {
    const result = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!result.SecretString) throw new InvalidInputError(`secret ${secretArn} has no string value`);
    return result.SecretString;
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new AwsUnavailableError(`reading secret ${secretArn} failed: ${(error as Error).name}`, { cause: error });
  }
}
