import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { CertflowConfig } from '../../lib/config';
import { rootTokenContext } from '../../functions/steps/vault-init';
import { credentialsForRole } from '../iam/role-credentials';
import { reporterRoleArns } from '../iam/sandbox-identities';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from './sandbox-constants';

/**
 * Opens the root token `vault-init` wrote KMS-wrapped, as the operator does with `aws kms decrypt`:
 * as the config's first key operator (kms.operatorRoles), the one identity the unseal key's policy
 * lets decrypt under the root-token context, in the sandbox's KMS. The token stays in memory.
 */
export async function decryptSandboxRootToken(input: { kmsEndpoint: string; config: CertflowConfig; wrappedRootToken: Uint8Array }): Promise<string> {
  const operatorArn = reporterRoleArns(input.config.kms.operatorRoles, SANDBOX_ACCOUNT)[0];
  if (!operatorArn) throw new Error('kms.operatorRoles names no role: nobody may open the root token');
  const kms = new KMSClient({ region: SANDBOX_REGION, endpoint: input.kmsEndpoint, credentials: credentialsForRole(operatorArn), maxAttempts: 1 });
  try {
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: input.wrappedRootToken, EncryptionContext: rootTokenContext(input.config.vault.clusterId) }));
    if (!Plaintext) throw new Error('KMS answered Decrypt without a plaintext');
    return Buffer.from(Plaintext).toString('utf8');
  } finally {
    kms.destroy();
  }
}
