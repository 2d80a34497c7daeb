import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertflowConfig } from '../../lib/config';
import { repoRoot } from '../../lib/repo-root';
import { VaultIdentityGroups, type VaultIdentityGroup } from '../../functions/contracts/functions';
import { bootstrapPki, type PkiBootstrapResult } from '../vault/pki/pki-bootstrap';
import { vaultClientFor } from '../vault/vault-client-for';
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

/** The audit device the sandbox's set-up enables (`sys/audit/<path>`). */
export const SANDBOX_AUDIT_DEVICE = 'file';

/** The Vault policy of one group of functions: `certflow-<group>`, shipped as deploy/vault/certflow-<group>.json. */
export function vaultPolicyName(group: VaultIdentityGroup): string {
  return `certflow-${group}`;
}

/** The shipped policy file of one group, as an operator applies it (`vault policy write certflow-<group> <file>`). */
export function shippedVaultPolicyPath(group: VaultIdentityGroup): string {
  return join(repoRoot(), 'deploy', 'vault', `${vaultPolicyName(group)}.json`);
}

export interface PkiSetupTarget {
  /** An unsealed node of the cluster. */
  readonly vaultUrl: string;
  /** The CA (PEM) of its HTTPS listener (the sandbox's vaultCaCertificate). */
  readonly vaultCaCertificate: string;
  /** Used for these writes only; never logged or returned. */
  readonly rootToken: string;
  /** The deployment config (mounts, role, auth, the services' domains). */
  readonly config: CertflowConfig;
  /** The roles each AWS IAM auth role (by name) binds: exactly those of its group's functions. */
  readonly loginRoleArns: Readonly<Record<string, readonly string[]>>;
}

export async function setupPki(target: PkiSetupTarget): Promise<PkiBootstrapResult> {
  const { config, rootToken } = target;
  const domains = [...new Set(declaredServices(config).flatMap((service) => service.dnsNames.map((name) => name.split('.').slice(1).join('.'))))];
  const result = await bootstrapPki({
    url: target.vaultUrl,
    token: rootToken,
    caCertificate: target.vaultCaCertificate,
    rootMount: config.vault.rootMount,
    intermediateMount: config.vault.intermediateMount,
    role: config.vault.role,
    allowedDomains: domains,
    keyType: config.pki.keyAlgorithm === 'rsa-2048' ? 'rsa' : 'ec',
    rootCommonName: `${config.pki.organization} Root CA`,
    intermediateCommonName: `${config.pki.organization} Intermediate CA`,
  });
  const client = vaultClientFor({ url: target.vaultUrl, token: rootToken, caCertificate: target.vaultCaCertificate });
  // Services choose their key algorithm (keycloak is RSA 2048): the role lets the request decide.
  await client.update(`${config.vault.intermediateMount}/roles/${config.vault.role}`, { key_type: 'any', key_bits: 0 });
  // auto_rebuild on both mounts, as Vault advises for large CRLs: a revoke then no longer rebuilds
  // every CRL inline (VAULT_API.md 4.12), and the compromise response rotates each mount's CRL
  // once after revoking everything (4.13 crl/rotate).
  for (const mount of [config.vault.rootMount, config.vault.intermediateMount]) await client.write(`${mount}/config/crl`, { auto_rebuild: true });
  // The shipped policies, exactly as an operator applies them (README, "The shipped Vault
  // policies"): each group's token carries its own, and the emulator enforces it on every path.
  for (const group of VaultIdentityGroups) {
    await client.write(`sys/policies/acl/${vaultPolicyName(group)}`, { policy: readFileSync(shippedVaultPolicyPath(group), 'utf8') });
  }
  // An audit device, as every regulated Vault has one: Preflight refuses a Vault without one.
  await client.write(`sys/audit/${SANDBOX_AUDIT_DEVICE}`, { type: 'file', description: 'the sandbox keeps no audit log; the device is its configuration only', options: { file_path: 'stdout' } });
  const auth = config.vault.auth;
  if (auth.method === 'aws-iam') {
    // A login must carry (signed) the server id this Vault expects: a captured one is refused elsewhere.
    if (auth.iamServerIdHeader) await client.write(`auth/${auth.mount}/config/client`, { iam_server_id_header_value: auth.iamServerIdHeader });
    for (const group of VaultIdentityGroups) {
      await client.write(`auth/${auth.mount}/role/${auth.roles[group]}`, {
        auth_type: 'iam',
        // Exactly the roles of the group's functions (certflow-<deployment>-<FunctionId>).
        bound_iam_principal_arn: [...(target.loginRoleArns[auth.roles[group]] ?? [])],
        token_policies: [vaultPolicyName(group)],
        token_ttl: '15m',
      });
    }
  }
  return result;
}

/** The roles each of the config's Vault auth roles binds, by role name, as the sandbox provisioned them. */
export function vaultLoginRoleArnsOf(sandbox: Pick<Sandbox, 'config' | 'vaultLoginRoleArns'>): Record<string, string[]> {
  const auth = sandbox.config.vault.auth;
  if (auth.method !== 'aws-iam') return {};
  return Object.fromEntries(VaultIdentityGroups.map((group) => [auth.roles[group], sandbox.vaultLoginRoleArns(auth.roles[group])]));
}

export async function setupSandboxPki(sandbox: Sandbox, rootToken: string): Promise<SandboxPki> {
  const result = await setupPki({ vaultUrl: sandbox.vault.nodes[0]!.url, vaultCaCertificate: sandbox.vaultCaCertificate, rootToken, config: sandbox.config, loginRoleArns: vaultLoginRoleArnsOf(sandbox) });
  return { ...result, rootToken };
}
