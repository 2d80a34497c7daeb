import * as z from 'zod';
import { startAwsJsonServer, type CallAuthorizer, type CallRecord } from '../aws-json/aws-json-server';
import { AwsJsonError } from '../aws-json/aws-json-error';
import { parseRequest } from '../aws-json/request-schema';
import type { FaultControls } from '../aws-json/fault-plan';

/**
 * SSM Parameter Store's GetParameter over the JSON 1.1 protocol (`AmazonSSM.GetParameter`),
 * enough for the functions to read the run-time values the template names
 * (functions/contracts/run-time-values.ts). Parameters are written through the handle (the
 * template's first values, then the sandbox's own addresses), never over HTTP. Every call is
 * authorized as `ssm:GetParameter` on the parameter's ARN once the sandbox enforces IAM.
 */
export interface SsmEmulatorHandle {
  endpoint: string;
  /** Writes a String parameter (a new version when it exists); returns its ARN. */
  putParameter(name: string, value: string): string;
  /** The parameter's current value, if it exists. */
  parameterValue(name: string): string | undefined;
  faults: FaultControls<string>;
  calls(): CallRecord[];
  /** Enforces IAM on every later call. */
  setAuthorizer(authorizer: CallAuthorizer | undefined): void;
  close(): Promise<void>;
}

const GetParameterInput = z.object({ Name: z.string().min(1), WithDecryption: z.boolean().optional() });

export async function startSsmEmulator(options: { region?: string; accountId?: string } = {}): Promise<SsmEmulatorHandle> {
  const region = options.region ?? 'us-east-1';
  const account = options.accountId ?? '000000000000';
  // A name with a leading slash is a path: its ARN is `parameter/a/b`, without a second slash.
  const arnOf = (name: string) => `arn:aws:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  const parameters = new Map<string, { value: string; version: number; modified: number }>();
  const server = await startAwsJsonServer({
    targetPrefix: 'AmazonSSM',
    internalException: 'InternalServerError',
    operations: {
      GetParameter: async (input, context) => {
        const request = parseRequest(GetParameterInput, input);
        // AccessDenied wins over ParameterNotFound, as in AWS: a caller without the permission cannot probe names.
        await context.authorize({ action: 'ssm:GetParameter', resource: arnOf(request.Name) });
        const parameter = parameters.get(request.Name);
        if (!parameter) throw new AwsJsonError('ParameterNotFound', '');
        return {
          Parameter: { Name: request.Name, Type: 'String', Value: parameter.value, Version: parameter.version, ARN: arnOf(request.Name), DataType: 'text', LastModifiedDate: parameter.modified },
        };
      },
    },
  });
  return {
    endpoint: server.endpoint,
    putParameter(name, value) {
      const version = (parameters.get(name)?.version ?? 0) + 1;
      parameters.set(name, { value, version, modified: Math.floor(Date.now() / 1000) });
      return arnOf(name);
    },
    parameterValue: (name) => parameters.get(name)?.value,
    faults: server.faults as FaultControls<string>,
    calls: server.calls,
    setAuthorizer: server.setAuthorizer,
    close: server.close,
  };
}
