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
  /** 1 when a node is sealed after an unseal run, else 0; dimensions Cluster and Node. */
  VaultSealed: 'VaultSealed',
  /** How many nodes of a cluster are sealed after an unseal run; dimension Cluster (the alarm's metric). */
  VaultSealedNodes: 'VaultSealedNodes',
  NodeDimension: 'Node',
  ClusterDimension: 'Cluster',
} as const;
