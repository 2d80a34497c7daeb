import { resolveValue, type CfnTemplate, type ResolveOptions } from '../runner/template-resolver';

/** One output of a described stack, as DescribeStacks lists it. */
export interface StackOutput {
  OutputKey: string;
  OutputValue: string;
  Description?: string;
}

/**
 * The template's Outputs with their values resolved to what the sandbox runs: the names the
 * provisioner gave the tables, keys and buses (`refs`, `attributes`), and the state machines' ARNs
 * as the Step Functions emulator names them, so an ARN read from the stack starts an execution
 * there. An output whose value the resolver cannot evaluate is a template the sandbox cannot run:
 * it throws, naming the output, rather than answering a value that is not real.
 */
export function resolvedStackOutputs(template: CfnTemplate, options: ResolveOptions & { stateMachineArns: Readonly<Record<string, string>> }): StackOutput[] {
  const { stateMachineArns, ...resolveOptions } = options;
  const refs = { ...resolveOptions.refs, ...stateMachineArns };
  const attributes = { ...resolveOptions.attributes, ...Object.fromEntries(Object.entries(stateMachineArns).map(([logicalId, arn]) => [`${logicalId}.Arn`, arn])) };
  const outputs = (template['Outputs'] ?? {}) as Record<string, { Value?: unknown; Description?: unknown }>;
  return Object.entries(outputs).map(([key, output]) => {
    const value = resolveValue(template, output.Value, { ...resolveOptions, refs, attributes });
    if (typeof value !== 'string') throw new Error(`output ${key} does not resolve to a string in the sandbox: ${JSON.stringify(value)}`);
    return { OutputKey: key, OutputValue: value, ...(typeof output.Description === 'string' ? { Description: output.Description } : {}) };
  });
}
