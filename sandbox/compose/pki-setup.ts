import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import NodeVault = require('node-vault');
import { repoRoot } from '../../lib/repo-root';
import { bootstrapPki, type PkiBootstrapResult } from '../vault/pki/pki-bootstrap';
import type { Sandbox } from './sandbox';
import { declaredServices } from './declared-services';

/**
 * What an operator does once after `vault-init`, done for the sandbox: the root (10 y) and
 * intermediate (5 y) CAs, the service role, and the AWS IAM auth role the certflow Lambdas log
 * in with. All over HTTP with node-vault, as an operator's scripts would.
 */
export interface SandboxPki extends PkiBootstrapResult {
  rootToken: string;
}

/** The Vault policy the functions' auth role grants (deploy/vault/certflow.json). */
export const CERTFLOW_VAULT_POLICY = 'certflow';

export async function setupSandboxPki(sandbox: Sandbox, rootToken: string): Promise<SandboxPki> {
  const { config } = sandbox;
  const domains = [...new Set(declaredServices(config).flatMap((target) => target.dnsNames.map((name) => name.split('.').slice(1).join('.'))))];
  const result = await bootstrapPki({
    handle: sandbox.vault,
    token: rootToken,
    rootMount: config.vault.rootMount,
    intermediateMount: config.vault.intermediateMount,
    role: config.vault.role,
    allowedDomains: domains,
    keyType: config.pki.keyAlgorithm === 'rsa-2048' ? 'rsa' : 'ec',
    rootCommonName: `${config.pki.organization} Root CA`,
    intermediateCommonName: `${config.pki.organization} Intermediate CA`,
  });
  const client = NodeVault({ endpoint: sandbox.vault.nodes[0]!.url, token: rootToken });
  // Services choose their key algorithm (keycloak is RSA 2048): the role lets the request decide.
  await client.update(`${config.vault.intermediateMount}/roles/${config.vault.role}`, { key_type: 'any', key_bits: 0 });
  // auto_rebuild on both mounts, as Vault advises for large CRLs: a revoke then no longer rebuilds
  // every CRL inline (VAULT_API.md 4.12), and the compromise response rotates each mount's CRL
  // once after revoking everything (4.13 crl/rotate).
  for (const mount of [config.vault.rootMount, config.vault.intermediateMount]) await client.write(`${mount}/config/crl`, { auto_rebuild: true });
  // The shipped policy, exactly as an operator applies it (`vault policy write certflow deploy/vault/certflow.json`):
  // every function's token carries it, and the emulator enforces it on every path.
  await client.write(`sys/policies/acl/${CERTFLOW_VAULT_POLICY}`, { policy: readFileSync(join(repoRoot(), 'deploy', 'vault', 'certflow.json'), 'utf8') });
  if (config.vault.auth.method === 'aws-iam') {
    await client.write(`auth/${config.vault.auth.mount}/role/${config.vault.auth.role}`, {
      auth_type: 'iam',
      // Exactly the roles of the functions that log in (certflow-<deployment>-<FunctionId>).
      bound_iam_principal_arn: sandbox.vaultLoginRoleArns(),
      token_policies: [CERTFLOW_VAULT_POLICY],
      token_ttl: '15m',
    });
  }
  return { ...result, rootToken };
}
