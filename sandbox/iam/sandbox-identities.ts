import { EnvNames, PkiEnvNames } from '../../functions/contracts/env';
import { lambdaFunctions, type CfnTemplate } from '../runner/template-resolver';
import { IamAuthorizer } from './iam-authorizer';
import { assumedRoleSessionArn, credentialsForRole, type RoleCredentials } from './role-credentials';
import { templateIam } from './template-iam';

/**
 * The identities of one sandbox: the operator (the CLI, and the sandbox's own set-up calls) and,
 * once a template is provisioned, one per IAM role of the template, each with its access key.
 */
export interface IdentityProvisioning {
  template: CfnTemplate;
  region: string;
  accountId: string;
  refs: Record<string, string>;
  attributes: Record<string, string>;
  /** Key ARNs by key logical id. */
  keyArns: Record<string, string>;
  /** Bus ARNs by bus name. */
  busArns: Record<string, string>;
}

export interface ProvisionedIdentities {
  /** Every role of the template (ARN) with the key the sandbox minted for it. */
  roles: Array<{ roleArn: string; sessionArn: string; credentials: RoleCredentials }>;
  /**
   * The roles of the functions that log in to Vault with AWS IAM, by the Vault auth role their
   * environment names (one per group of functions); a function with no Vault identity is in none.
   */
  vaultLoginRoleArns: Record<string, string[]>;
}

/**
 * The operator: an account administrator (identity policy `*` on `*`), as the person running
 * `certflow` usually is. Resource policies still bind it: the key policy's encryption-context
 * condition on kms:Encrypt, the bus policy's reporters.
 */
export const OperatorPolicy = { Version: '2012-10-17', Statement: [{ Sid: 'SandboxOperatorIsAdministrator', Effect: 'Allow', Action: '*', Resource: '*' }] };

export function addOperator(authorizer: IamAuthorizer, operator: { accessKeyId: string; roleArn: string; sessionArn: string }): void {
  authorizer.addIdentity({ ...operator, identityPolicies: [{ name: 'SandboxOperatorAdministrator', policy: OperatorPolicy }] });
}

/**
 * The config's compromise reporters, as the roles a security engineer assumes to report: each may
 * put events (its identity policy), and the bus policy decides whose reports it accepts. Their keys
 * are derived from the role ARN like every sandbox key, so `certflow compromise --local` in another
 * process signs as one of them.
 */
export const ReporterPolicy = { Version: '2012-10-17', Statement: [{ Sid: 'ReporterPutsEvents', Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }] };

export function reporterRoleArns(principals: readonly string[], accountId: string): string[] {
  return principals.map((entry) => (entry.startsWith('arn:') ? entry : `arn:aws:iam::${accountId}:${entry}`)).filter((arn) => /:role\//.test(arn));
}

export function addReporters(authorizer: IamAuthorizer, roleArns: readonly string[]): void {
  for (const roleArn of roleArns) {
    const credentials = credentialsForRole(roleArn);
    authorizer.addIdentity({ accessKeyId: credentials.accessKeyId, roleArn, sessionArn: assumedRoleSessionArn(roleArn, 'reporter'), identityPolicies: [{ name: 'SandboxReporter', policy: ReporterPolicy }] });
  }
}

/**
 * The config's key operators (kms.operatorRoles): identities whose own policy allows kms:Decrypt
 * anywhere, so that the key policy alone decides what they may open (the wrapped root token).
 */
export const KeyOperatorPolicy = { Version: '2012-10-17', Statement: [{ Sid: 'OperatorDecrypts', Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }] };

export function addKeyOperators(authorizer: IamAuthorizer, roleArns: readonly string[]): void {
  for (const roleArn of roleArns) {
    const credentials = credentialsForRole(roleArn);
    authorizer.addIdentity({ accessKeyId: credentials.accessKeyId, roleArn, sessionArn: assumedRoleSessionArn(roleArn, 'operator'), identityPolicies: [{ name: 'SandboxKeyOperator', policy: KeyOperatorPolicy }] });
  }
}

/** The Vault auth role a function's CERTFLOW_VAULT_AUTH names for an AWS IAM login, if any. */
function awsIamRoleOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const auth = JSON.parse(value) as { method?: unknown; role?: unknown };
    return auth.method === 'aws-iam' && typeof auth.role === 'string' ? auth.role : undefined;
  } catch {
    return undefined;
  }
}

/** Registers every role of the template and every resource policy with the authorizer. */
export async function provisionIdentities(authorizer: IamAuthorizer, input: IdentityProvisioning): Promise<ProvisionedIdentities> {
  const iam = templateIam(input.template, { region: input.region, accountId: input.accountId, refs: input.refs, attributes: input.attributes });
  // STS names a Lambda's session after its function; other roles (state machines, rules) get one fixed name.
  const sessionNames = new Map<string, string>();
  const vaultLoginRoleArns: Record<string, string[]> = {};
  const resolveOptions = { region: input.region, accountId: input.accountId, refs: input.refs, attributes: input.attributes };
  for (const fn of lambdaFunctions(input.template, resolveOptions)) {
    if (!fn.roleArn) continue;
    sessionNames.set(fn.roleArn, String(fn.environment[EnvNames.Function] ?? fn.logicalId));
    const vaultRole = awsIamRoleOf(fn.environment[PkiEnvNames.VaultAuth]);
    if (vaultRole !== undefined) (vaultLoginRoleArns[vaultRole] ??= []).push(fn.roleArn);
  }
  const roles = iam.roles.map((role) => {
    const credentials = credentialsForRole(role.arn);
    const sessionArn = assumedRoleSessionArn(role.arn, sessionNames.get(role.arn) ?? 'sandbox');
    authorizer.addIdentity({ accessKeyId: credentials.accessKeyId, roleArn: role.arn, sessionArn, identityPolicies: role.identityPolicies });
    authorizer.setTrustPolicy(role.arn, `${role.logicalId}.AssumeRolePolicyDocument`, role.trustPolicy);
    return { roleArn: role.arn, sessionArn, credentials };
  });
  for (const [keyId, policy] of Object.entries(iam.keyPolicies)) {
    const arn = input.keyArns[keyId];
    if (arn) authorizer.setResourcePolicy(arn, `${keyId}.KeyPolicy`, policy);
  }
  for (const [bus, policy] of Object.entries(iam.busPolicies)) {
    const arn = input.busArns[bus] ?? (bus.startsWith('arn:') ? bus : undefined);
    if (arn) authorizer.setResourcePolicy(arn, `${bus} bus policy`, policy);
  }
  await authorizer.validate();
  return { roles, vaultLoginRoleArns };
}
