import { FunctionRegistry, type FunctionId } from '../../functions/contracts/functions';
import { lambdaFunctions, type AslDefinition } from '../../sandbox/runner/template-resolver';
import { loadTemplate, stateMachineDefinitions } from '../support/template';

/**
 * The Rotation and CompromiseResponse workflows are built from one kit (lib/constructs/
 * workflow-kit.ts): every Lambda task waits exactly as long as its function may run, in both.
 */
interface TaskState {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string };
  TimeoutSeconds?: number;
  ItemProcessor?: { States: Record<string, TaskState> };
}

const raw = loadTemplate();
const definitions = stateMachineDefinitions();
const functionIdByArn = new Map(lambdaFunctions(raw).map((fn) => [fn.arn, fn.functionId as FunctionId]));

function lambdaTasks(machine: { States: Record<string, TaskState> }): Array<[string, TaskState]> {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    ...(state.Type === 'Task' && state.Resource?.endsWith(':states:::lambda:invoke') ? [[name, state] as [string, TaskState]] : []),
    ...(state.ItemProcessor ? lambdaTasks(state.ItemProcessor) : []),
  ]);
}

const machineWith = (stateName: string): AslDefinition => {
  const found = Object.values(definitions).filter((candidate) => stateName in candidate.States);
  if (found.length !== 1) throw new Error(`expected one state machine with ${stateName}, found ${found.length}`);
  return found[0]!;
};

describe.each([
  ['Rotation', 'AcquireLock'],
  ['CompromiseResponse', 'TakeLock'],
])('the %s workflow', (_name, marker) => {
  const tasks = lambdaTasks(machineWith(marker) as never);

  it('has Lambda tasks to check', () => {
    expect(tasks.length).toBeGreaterThan(5);
  });

  it('gives every Lambda task the timeout of the function it invokes', () => {
    const mismatched = tasks.flatMap(([name, state]) => {
      const functionId = functionIdByArn.get(String(state.Parameters?.FunctionName));
      const expected = functionId ? FunctionRegistry[functionId].timeoutSeconds : undefined;
      return state.TimeoutSeconds === expected && expected !== undefined ? [] : [`${name}: ${state.TimeoutSeconds} (function ${functionId}: ${expected})`];
    });
    expect(mismatched).toEqual([]);
  });
});
