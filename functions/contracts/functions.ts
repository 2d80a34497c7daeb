/**
 * The registry of Lambda functions: the construct in lib/ builds one function per entry, and the
 * local runner maps each task to the handler named here. Paths are relative to the repo root.
 */
export const FunctionRegistry = {
  UnsealDiscover: {
    entry: 'functions/handlers/unseal-discover.handler.ts',
    description: 'Lists the Vault nodes to unseal (configured addresses).',
    timeoutSeconds: 30,
  },
  UnsealNode: {
    entry: 'functions/handlers/unseal-node.handler.ts',
    description: 'Unseals one Vault node with KMS-wrapped Shamir shares.',
    timeoutSeconds: 60,
  },
  UnsealReport: {
    entry: 'functions/handlers/unseal-report.handler.ts',
    description: 'Re-reads every node, publishes VaultSealed metrics and builds the unseal event.',
    timeoutSeconds: 30,
  },
} as const;

export type FunctionId = keyof typeof FunctionRegistry;
export const FunctionIds = Object.keys(FunctionRegistry) as FunctionId[];

/** Metric names and dimensions published by the functions and alarmed on by lib/. */
export const Metrics = {
  Namespace: 'Certflow',
  VaultSealed: 'VaultSealed',
  NodeDimension: 'Node',
  ClusterDimension: 'Cluster',
} as const;
