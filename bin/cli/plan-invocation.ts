import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PlanDryRunResultSchema, type PlanDryRunRequest, type PlanDryRunResult } from '../../functions/contracts/plan-dry-run';
import { CliError, ExitCodes } from './cli-error';

/** The variable `--stack` fills from the PlanFunctionName output (stack-outputs.ts). */
export const PLAN_FUNCTION_ENV = 'CERTFLOW_PLAN_FUNCTION';

/**
 * `certflow plan --stack`: invokes the deployed PlanRotation function with a dry-run input, where
 * the clusters and Vault are reachable (the operator's machine reaches neither), and validates its
 * answer before anything is printed. The operator needs lambda:InvokeFunction on that function.
 */
export async function invokePlanDryRun(functionName: string, request: PlanDryRunRequest, client: LambdaClient = new LambdaClient({})): Promise<PlanDryRunResult> {
  try {
    const answer = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify({ dryRun: request })) }));
    const text = answer.Payload ? Buffer.from(answer.Payload).toString('utf8') : 'null';
    if (answer.FunctionError) {
      const failure = safeJson(text) as { errorType?: unknown; errorMessage?: unknown } | undefined;
      const what = typeof failure?.errorType === 'string' ? `${failure.errorType}: ${String(failure.errorMessage ?? '')}` : text.slice(0, 200);
      throw new CliError(`the PlanRotation function ${functionName} failed its dry run (${what.split('\n')[0]}); nothing was changed`, ExitCodes.Environment);
    }
    const parsed = PlanDryRunResultSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new CliError(`the function ${functionName} did not answer a plan dry run (${parsed.error.issues[0]?.path.join('.') || '(root)'}: ${parsed.error.issues[0]?.message}): is it the PlanRotation function of this stack?`, ExitCodes.Environment);
    }
    return parsed.data;
  } finally {
    client.destroy();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
