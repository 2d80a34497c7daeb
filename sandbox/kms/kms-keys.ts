import { randomBytes, randomUUID } from 'node:crypto';
import { AwsJsonError } from '../aws-json/aws-json-error';

/** What a sandbox key policy decides, with what it may look at. */
export interface KeyPolicyRequest {
  accessKeyId: string;
  encryptionContext: Record<string, string>;
}

/**
 * A stand-in for a key policy: each callback says whether the call is allowed; an absent one
 * allows. Enough to exercise the AccessDenied path of the adapters without modelling IAM.
 */
export interface KeyPolicy {
  allowDecrypt?: (request: KeyPolicyRequest) => boolean;
  /** Applies to Encrypt and GenerateDataKey. */
  allowEncrypt?: (request: KeyPolicyRequest) => boolean;
}

export interface KmsKey {
  readonly keyId: string;
  readonly arn: string;
  readonly description: string;
  readonly createdAt: Date;
  /** The 256-bit AES key: never leaves the emulator, never recorded. */
  readonly material: Buffer;
  enabled: boolean;
  rotationEnabled: boolean;
  rotationPeriodInDays: number;
  policy: KeyPolicy;
}

export interface KmsAlias {
  readonly aliasName: string;
  readonly aliasArn: string;
  readonly targetKeyId: string;
  readonly createdAt: Date;
}

// KMS's default rotation period when EnableKeyRotation names none.
const defaultRotationPeriodInDays = 365;

/**
 * The keys and aliases of one emulated account and region, and the resolution of a `KeyId` in
 * any of the four forms KMS accepts: key id, key ARN, `alias/name`, alias ARN.
 */
export class KmsKeyStore {
  private readonly keys = new Map<string, KmsKey>();
  private readonly aliases = new Map<string, KmsAlias>();

  constructor(
    readonly region: string,
    readonly accountId: string,
  ) {}

  create(options: { description?: string } = {}): KmsKey {
    const keyId = randomUUID();
    const key: KmsKey = {
      keyId,
      arn: `${this.arnPrefix()}key/${keyId}`,
      description: options.description ?? '',
      createdAt: new Date(),
      material: randomBytes(32),
      enabled: true,
      rotationEnabled: false,
      rotationPeriodInDays: defaultRotationPeriodInDays,
      policy: {},
    };
    this.keys.set(keyId, key);
    return key;
  }

  createAlias(aliasName: string, targetKeyRef: string): KmsAlias {
    if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(aliasName)) {
      throw new AwsJsonError('ValidationException', `Alias name must match alias/[a-zA-Z0-9/_-]+, got ${aliasName}.`);
    }
    if (aliasName.startsWith('alias/aws/')) {
      throw new AwsJsonError('NotAuthorizedException', 'The alias prefix alias/aws/ is reserved for AWS managed keys.');
    }
    if (this.aliases.has(aliasName)) {
      throw new AwsJsonError('AlreadyExistsException', `An alias with the name ${this.arnPrefix()}${aliasName} already exists`);
    }
    // An alias must point at a key, never at another alias.
    if (targetKeyRef.includes('alias/')) throw new AwsJsonError('ValidationException', 'TargetKeyId must be a key id or key ARN.');
    const key = this.resolve(targetKeyRef);
    const alias: KmsAlias = { aliasName, aliasArn: `${this.arnPrefix()}${aliasName}`, targetKeyId: key.keyId, createdAt: new Date() };
    this.aliases.set(aliasName, alias);
    return alias;
  }

  listAliases(keyRef?: string): KmsAlias[] {
    const keyId = keyRef === undefined ? undefined : this.resolve(keyRef).keyId;
    return [...this.aliases.values()].filter((alias) => keyId === undefined || alias.targetKeyId === keyId);
  }

  /** The key with this exact id, if any (used for the id embedded in a ciphertext). */
  byId(keyId: string): KmsKey | undefined {
    return this.keys.get(keyId);
  }

  /** Resolves a KeyId in any accepted form, or throws NotFoundException as KMS does. */
  resolve(keyRef: string): KmsKey {
    if (keyRef.startsWith('arn:')) {
      // An ARN of another account or region names a key this emulator does not hold.
      const local = keyRef.startsWith(this.arnPrefix()) ? keyRef.slice(this.arnPrefix().length) : '';
      if (local.startsWith('alias/')) return this.resolveAlias(local);
      const key = local.startsWith('key/') ? this.keys.get(local.slice('key/'.length)) : undefined;
      if (key === undefined) throw new AwsJsonError('NotFoundException', `Key '${keyRef}' does not exist`);
      return key;
    }
    if (keyRef.startsWith('alias/')) return this.resolveAlias(keyRef);
    const key = this.keys.get(keyRef);
    if (key === undefined) throw new AwsJsonError('NotFoundException', `Key '${this.arnPrefix()}key/${keyRef}' does not exist`);
    return key;
  }

  private resolveAlias(aliasName: string): KmsKey {
    const alias = this.aliases.get(aliasName);
    if (alias === undefined) throw new AwsJsonError('NotFoundException', `Alias ${this.arnPrefix()}${aliasName} is not found.`);
    return this.keys.get(alias.targetKeyId)!;
  }

  private arnPrefix(): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:`;
  }
}
