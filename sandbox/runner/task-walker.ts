/**
 * Walks an ASL definition (JSONPath) and lists every Task state, including those nested in Map
 * (`ItemProcessor` / `Iterator`) and Parallel (`Branches`) states. aws-local-stepfunctions keys
 * its overrides by state name, so names must be unique across the definition: this walker says
 * so loudly when they are not.
 */
export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ItemProcessor?: AslMachine;
  Iterator?: AslMachine;
  Branches?: AslMachine[];
  [key: string]: unknown;
}

export interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
  [key: string]: unknown;
}

export interface TaskState {
  name: string;
  resource: string;
  parameters: Record<string, unknown>;
}

export function listTaskStates(machine: AslMachine): TaskState[] {
  const tasks: TaskState[] = [];
  const seen = new Set<string>();
  const visit = (current: AslMachine) => {
    for (const [name, state] of Object.entries(current.States)) {
      if (seen.has(name)) throw new Error(`state name "${name}" is used twice; the local runner needs unique state names`);
      seen.add(name);
      if (state.Type === 'Task') {
        tasks.push({ name, resource: String(state.Resource), parameters: state.Parameters ?? {} });
      }
      const nested = state.ItemProcessor ?? state.Iterator;
      if (nested) visit(nested);
      for (const branch of state.Branches ?? []) visit(branch);
    }
  };
  visit(machine);
  return tasks;
}

/** Names of every state of one type (Wait, Map...), nested ones included. */
export function listStatesOfType(machine: AslMachine, type: string): string[] {
  const names: string[] = [];
  const visit = (current: AslMachine) => {
    for (const [name, state] of Object.entries(current.States)) {
      if (state.Type === type) names.push(name);
      const nested = state.ItemProcessor ?? state.Iterator;
      if (nested) visit(nested);
      for (const branch of state.Branches ?? []) visit(branch);
    }
  };
  visit(machine);
  return names;
}
