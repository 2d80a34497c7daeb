import { createHash } from 'node:crypto';

/**
 * The credentials the sandbox hands to one IAM role of the template: an access key per role, as
 * STS would hand a Lambda its role's session keys. Derived from the role ARN, so the sandbox (which
 * maps a key back to its role) and a runner in another process (the CLI's, over `certflow
 * sandbox`) agree on them without passing them around. They open nothing outside the sandbox.
 */
export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export function credentialsForRole(roleArn: string): RoleCredentials {
  const digest = createHash('sha256').update(`certflow-sandbox:${roleArn}`).digest();
  // ASIA: the prefix AWS gives temporary (assumed-role) access keys; 16 upper-case characters follow.
  const accessKeyId = `ASIA${digest.subarray(0, 10).toString('hex').toUpperCase().slice(0, 16)}`;
  return { accessKeyId, secretAccessKey: `sandbox-${digest.subarray(10, 30).toString('base64url')}` };
}

/** `arn:aws:iam::<account>:role/<name>` -> `<name>` (a role path, if any, is dropped as STS does). */
export function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

/** The session ARN STS reports for a role assumed as `sessionName` (what AccessDenied messages name). */
export function assumedRoleSessionArn(roleArn: string, sessionName: string): string {
  const account = roleArn.split(':')[4];
  return `arn:aws:sts::${account}:assumed-role/${roleNameOf(roleArn)}/${sessionName}`;
}
