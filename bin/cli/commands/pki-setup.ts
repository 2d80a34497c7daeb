import { readFileSync } from 'node:fs';
import type NodeVault = require('node-vault');
import { loadConfig } from '../../../lib/config';
import { setupPki } from '../../../sandbox/compose/pki-setup';
import { vaultClientFor } from '../../../sandbox/vault/vault-client-for';
import { decryptSandboxRootToken } from '../../../sandbox/compose/sandbox-root-token';
import { readSandboxState } from '../sandbox-state';
import { CliError, ExitCodes } from '../cli-error';
import type { Output } from '../output';

export interface PkiSetupOptions {
  configPath: string;
  local: boolean;
  /** The KMS-wrapped root token `vault-init` wrote (base64). */
  rootTokenFile: string;
}

/**
 * `certflow pki-setup --local`: the operator's one-time PKI set-up after `vault-init` and
 * `unseal`, on the running sandbox: the root and intermediate CAs, the service role, the certflow
 * policy and the AWS IAM auth role bound to exactly the functions that log in. The root token is
 * opened with KMS as the configured key operator, used for these writes, and never printed.
 * Refuses (exit 5, nothing changed) when the intermediate mount already has an issuer.
 */
export async function pkiSetup(options: PkiSetupOptions, out: Output): Promise<number> {
  const config = loadConfig(options.configPath);
  if (!options.local) {
    throw new CliError(
      'pki-setup acts on the sandbox only (--local). Against a real Vault, set up the PKI with your own root token as README "The shipped Vault policy" shows',
      ExitCodes.Usage,
    );
  }
  const state = readSandboxState({ configPath: options.configPath });
  const loginRoleArns = state.vaultLoginRoleArns;
  if (!loginRoleArns) throw new CliError('the running sandbox does not record its functions\' roles: restart it with this version of `certflow sandbox`', ExitCodes.Environment);
  let wrapped: Buffer;
  try {
    wrapped = Buffer.from(readFileSync(options.rootTokenFile, 'utf8').trim(), 'base64');
  } catch {
    throw new CliError(`no KMS-wrapped root token at ${options.rootTokenFile}: run \`certflow vault-init --local\` first (or pass --root-token-file)`, ExitCodes.Environment);
  }
  const vaultUrl = state.vaultNodes[0]!.url;
  // The sandbox's Vault is pinned to the CA it made at its start, as a production Vault is.
  const vaultCaCertificate = state.vaultCaCertificate;
  if (!vaultCaCertificate) throw new CliError('the running sandbox does not record its Vault\'s CA: restart it with this version of `certflow sandbox`', ExitCodes.Environment);

  const anonymous = vaultClientFor({ url: vaultUrl, caCertificate: vaultCaCertificate });
  const seal = (await anonymous.status()) as { initialized?: boolean; sealed?: boolean };
  if (seal.initialized === false) throw new CliError('Vault is not initialized: run `certflow vault-init --local` first', ExitCodes.Environment);
  if (seal.sealed) throw new CliError('Vault is sealed: run `certflow unseal --local` first', ExitCodes.Environment);

  out.progress('opening the root token with KMS (as the key operator)');
  const rootToken = await decryptSandboxRootToken({ kmsEndpoint: state.awsEnv.AWS_ENDPOINT_URL_KMS!, config, wrappedRootToken: wrapped });
  const issuers = await existingIssuers(vaultClientFor({ url: vaultUrl, token: rootToken, caCertificate: vaultCaCertificate }), config.vault.intermediateMount);
  if (issuers.length > 0) {
    throw new CliError(`the PKI is already set up (${config.vault.intermediateMount} has ${issuers.length} issuer(s)): nothing was changed`, ExitCodes.Refused);
  }
  out.progress('creating the root and intermediate CAs, the role, the policy and the auth role');
  const result = await setupPki({ vaultUrl, vaultCaCertificate, rootToken, config, loginRoleArns });

  const vaultAuth = config.vault.auth;
  const auth = vaultAuth.method === 'aws-iam' ? Object.values(vaultAuth.roles).map((role) => `auth/${vaultAuth.mount}/role/${role}`).join(', ') : undefined;
  const boundRoles = [...new Set(Object.values(loginRoleArns).flat())];
  out.result({
    rootIssuerId: result.rootIssuerId,
    intermediateIssuerId: result.intermediateIssuerId,
    intermediateSerial: result.intermediateSerial,
    role: `${config.vault.intermediateMount}/roles/${config.vault.role}`,
    ...(auth ? { authRole: auth, boundRoles } : {}),
  });
  out.line(`PKI set up on ${vaultUrl}:`);
  out.table([
    ['what', 'where'],
    ['root CA', `${config.vault.rootMount} issuer ${result.rootIssuerId}`],
    ['intermediate CA', `${config.vault.intermediateMount} issuer ${result.intermediateIssuerId} (serial ${result.intermediateSerial})`],
    ['service role', `${config.vault.intermediateMount}/roles/${config.vault.role}`],
    ...(auth ? [['auth roles', `${auth} (${boundRoles.length} function roles)`]] : []),
  ]);
  out.line();
  out.line('The root token was used in memory only. Next: `certflow plan --local`.');
  return ExitCodes.Ok;
}

/** The mount's issuer ids; none when Vault answers 404 (an empty LIST). */
async function existingIssuers(client: NodeVault.client, mount: string): Promise<string[]> {
  try {
    const answer = (await client.list(`${mount}/issuers`)) as { data?: { keys?: string[] } };
    return answer.data?.keys ?? [];
  } catch (error) {
    if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return [];
    throw error;
  }
}
