import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import NodeVault = require('node-vault');
import type { CertflowConfig } from '../../lib/config';
import { repoRoot } from '../../lib/repo-root';
import { bootstrapPki, type PkiBootstrapResult } from '../vault/pki/pki-bootstrap';
import type { Sandbox } from './sandbox';
import { declaredServices } from './declared-services';

/**
 * What an operator does once after `vault-init`, done for the sandbox: the root (10 y) and
 * intermediate (5 y) CAs, the service role, and the AWS IAM auth role the certflow Lambdas log
 * in with. All over HTTP with node-vault, as an operator's scripts would: the sandbox's start-up
 * runs it in process, `certflow pki-setup --local` from another.
 */
export interface SandboxPki extends PkiBootstrapResult {
  rootToken: string;
}

/** The Vault policy the functions' auth role grants (deploy/vault/certflow.json). */
export const CERTFLOW_VAULT_POLICY = 'certflow';

export interface PkiSetupTarget {
  /** An unsealed node of the cluster. */
  readonly vaultUrl: string;
  /** Used for these writes only; never logged or returned. */
  readonly rootToken: string;
  /** The deployment config (mounts, role, auth, the services' domains). */
  readonly config: CertflowConfig;
  /** The roles the AWS IAM auth role binds: exactly those of the functions that log in. */
  readonly loginRoleArns: readonly string[];
}

export async function setupPki(target: PkiSetupTarget): Promise<PkiBootstrapResult> {
  const { config, rootToken } = target;
  const domains = [...new Set(declaredServices(config).flatMap((service) => service.dnsNames.map((name) => name.split('.').slice(1).join('.'))))];
  const result = await bootstrapPki({
    url: target.vaultUrl,
    token: rootToken,
    rootMount: config.vault.rootMount,
    intermediateMount: config.vault.intermediateMount,
    role: config.vault.role,
    allowedDomains: domains,
    keyType: config.pki.keyAlgorithm === 'rsa-2048' ? 'rsa' : 'ec',
    rootCommonName: `${config.pki.organization} Root CA`,
    intermediateCommonName: `${config.pki.organization} Intermediate CA`,
  });
  const client = NodeVault({ endpoint: target.vaultUrl, token: rootToken });
  // Services choose their key algorithm (keycloak is RSA 2048): the role lets the request decide.
  await client.update(`${config.vault.intermediateMount}/roles/${config.vault.role}`, { key_type: 'any', key_bits: 0 });
  // The shipped policy, exactly as an operator applies it (`vault policy write certflow deploy/vault/certflow.json`):
  // every function's token carries it, and the emulator enforces it on every path.
  await client.write(`sys/policies/acl/${CERTFLOW_VAULT_POLICY}`, { policy: readFileSync(join(repoRoot(), 'deploy', 'vault', 'certflow.json'), 'utf8') });
  if (config.vault.auth.method === 'aws-iam') {
    await client.write(`auth/${config.vault.auth.mount}/role/${config.vault.auth.role}`, {
      auth_type: 'iam',
      bound_iam_principal_arn: [...target.loginRoleArns],
      token_policies: [CERTFLOW_VAULT_POLICY],
      token_ttl: '15m',
    });
  }
  return result;
}

export async function setupSandboxPki(sandbox: Sandbox, rootToken: string): Promise<SandboxPki> {
  const result = await setupPki({ vaultUrl: sandbox.vault.nodes[0]!.url, rootToken, config: sandbox.config, loginRoleArns: sandbox.vaultLoginRoleArns() });
  return { ...result, rootToken };
}
