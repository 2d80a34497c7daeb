import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { startAwsJsonServer, type CallAuthorizer, type CallRecord } from '../aws-json/aws-json-server';
import { AwsJsonError } from '../aws-json/aws-json-error';
import { parseRequest } from '../aws-json/request-schema';
import type { FaultControls } from '../aws-json/fault-plan';

/**
 * Secrets Manager's GetSecretValue over the JSON 1.1 protocol (`secretsmanager.GetSecretValue`),
 * enough for the AppRole and token auth methods to read their credentials from the sandbox the
 * way they read them from AWS. Secrets are seeded through the handle, never over HTTP.
 */
export interface SecretsManagerEmulatorHandle {
  endpoint: string;
  /** Stores a secret; returns its ARN. */
  putSecret(name: string, value: string): string;
  /** Replaces the value of an existing secret (by ARN or name), as PutSecretValue would. */
  putSecretValue(id: string, value: string): void;
  faults: FaultControls<string>;
  calls(): CallRecord[];
  /** Enforces IAM on every later call. */
  setAuthorizer(authorizer: CallAuthorizer | undefined): void;
  close(): Promise<void>;
}

const GetSecretValueInput = z.object({ SecretId: z.string().min(1), VersionStage: z.string().optional() });

export async function startSecretsManagerEmulator(options: { region?: string; accountId?: string } = {}): Promise<SecretsManagerEmulatorHandle> {
  const region = options.region ?? 'us-east-1';
  const account = options.accountId ?? '000000000000';
  const secrets = new Map<string, { arn: string; name: string; value: string; versionId: string; created: number }>();
  const find = (id: string) => [...secrets.values()].find((secret) => secret.arn === id || secret.name === id);
  const server = await startAwsJsonServer({
    targetPrefix: 'secretsmanager',
    internalException: 'InternalServiceError',
    operations: {
      GetSecretValue: async (input, context) => {
        const request = parseRequest(GetSecretValueInput, input);
        const secret = find(request.SecretId);
        // AccessDenied wins over ResourceNotFound, as in AWS: a caller without the permission cannot probe names.
        await context.authorize({ action: 'secretsmanager:GetSecretValue', resource: secret?.arn ?? `arn:aws:secretsmanager:${region}:${account}:secret:${request.SecretId}` });
        if (!secret) throw new AwsJsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        return { ARN: secret.arn, Name: secret.name, SecretString: secret.value, VersionId: secret.versionId, VersionStages: ['AWSCURRENT'], CreatedDate: secret.created };
      },
    },
  });
  return {
    endpoint: server.endpoint,
    putSecret(name, value) {
      const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${randomUUID().slice(0, 6)}`;
      secrets.set(name, { arn, name, value, versionId: randomUUID(), created: Math.floor(Date.now() / 1000) });
      return arn;
    },
    putSecretValue(id, value) {
      const secret = find(id);
      if (!secret) throw new Error(`no secret ${id} in the sandbox`);
      secrets.set(secret.name, { ...secret, value, versionId: randomUUID() });
    },
    faults: server.faults as FaultControls<string>,
    calls: server.calls,
    setAuthorizer: server.setAuthorizer,
    close: server.close,
  };
}
