/** The sandbox's fixed account, region and operator identity (sandbox.ts re-exports them). */

export const SANDBOX_REGION = 'us-east-1';
export const SANDBOX_ACCOUNT = '000000000000';
/**
 * The operator's credentials: the CLI's, and the sandbox's own set-up calls. The functions never
 * use them: each runs with its own role's key (sandbox/iam/role-credentials.ts).
 */
export const SANDBOX_CREDENTIALS = { accessKeyId: 'AKIASANDBOXCERTFLOW0', secretAccessKey: 'sandbox-secret-not-a-secret' } as const;

/** Who the operator is in the sandbox: an account administrator's role (sandbox-identities.ts). */
export const SANDBOX_OPERATOR_ROLE_ARN = 'arn:aws:iam::000000000000:role/certflow-sandbox-operator';
export const SANDBOX_OPERATOR_SESSION_ARN = 'arn:aws:sts::000000000000:assumed-role/certflow-sandbox-operator/operator';
