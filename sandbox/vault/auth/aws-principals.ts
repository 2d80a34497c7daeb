/**
 * The emulator's stand-in for STS GetCallerIdentity. Vault's AWS IAM login forwards the client's
 * signed request to STS and learns the caller's ARN from the answer (VAULT_API.md 6.1); the
 * emulator cannot call STS, so tests and the sandbox register which principal an access key id
 * belongs to. With the secret key registered too, the emulator checks the SigV4 signature itself,
 * so a request signed with the wrong key, region or headers fails as STS would fail it (P9).
 */

export interface AwsPrincipal {
  readonly accessKeyId: string;
  /** `arn:aws:iam::<acct>:user/<name>`, `arn:aws:iam::<acct>:role/<name>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  readonly arn: string;
  /** When given, the signature is verified; otherwise only the request's shape is checked. */
  readonly secretAccessKey?: string;
  /** When given, the request must carry it as a signed `X-Amz-Security-Token`. */
  readonly sessionToken?: string;
  /** STS `UserId`: `AROA…:session` for an assumed role. @default derived from the access key */
  readonly userId?: string;
}

export interface AwsPrincipalOptions {
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  readonly userId?: string;
}

export class AwsPrincipalTable {
  private readonly principals = new Map<string, AwsPrincipal>();

  /** Maps an access key id to the principal STS would report for it. */
  register(accessKeyId: string, arn: string, options: AwsPrincipalOptions = {}): void {
    if (!/^arn:aws[a-z-]*:(iam|sts)::\d{12}:/.test(arn)) throw new Error(`registerAwsPrincipal: not an IAM or STS ARN: ${arn}`);
    this.principals.set(accessKeyId, { accessKeyId, arn, ...options });
  }

  remove(accessKeyId: string): void {
    this.principals.delete(accessKeyId);
  }

  find(accessKeyId: string): AwsPrincipal | undefined {
    return this.principals.get(accessKeyId);
  }
}

/** An IAM entity as Vault's parseIamArn reads an ARN. */
export interface IamEntity {
  readonly partition: string;
  readonly accountNumber: string;
  readonly type: 'user' | 'role' | 'assumed-role';
  readonly path: string;
  readonly friendlyName: string;
  readonly sessionInfo: string;
}

export function parseIamArn(arn: string): IamEntity | undefined {
  const match = /^arn:(aws[a-z-]*):(iam|sts)::(\d{12}):(user|role|assumed-role)\/(.+)$/.exec(arn);
  if (!match) return undefined;
  const [, partition = 'aws', service, accountNumber = '', type, rest = ''] = match;
  if (type === 'assumed-role') {
    if (service !== 'sts') return undefined;
    const [role = '', ...session] = rest.split('/');
    return { partition, accountNumber, type, path: '', friendlyName: role, sessionInfo: session.join('/') };
  }
  if (service !== 'iam') return undefined;
  const parts = rest.split('/');
  const friendlyName = parts.pop() ?? '';
  return { partition, accountNumber, type: type as 'user' | 'role', path: parts.length > 0 ? `/${parts.join('/')}/` : '/', friendlyName, sessionInfo: '' };
}

/** Vault's canonicalArn: an assumed-role session maps to its role, paths dropped. */
export function canonicalArn(entity: IamEntity): string {
  const type = entity.type === 'assumed-role' ? 'role' : entity.type;
  return `arn:${entity.partition}:iam::${entity.accountNumber}:${type}/${entity.friendlyName}`;
}
