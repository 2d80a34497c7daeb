/**
 * The registry of Lambda functions: the construct in lib/ builds one function per entry, and the
 * local runner maps each task to the handler named here. Paths are relative to the repo root.
 */
export type Capability = 'unseal' | 'pki';

export const FunctionRegistry = {
  UnsealDiscover: {
    capability: 'unseal',
    entry: 'functions/handlers/unseal-discover.handler.ts',
    description: 'Lists the Vault nodes to unseal (configured addresses).',
    timeoutSeconds: 30,
  },
  UnsealNode: {
    capability: 'unseal',
    entry: 'functions/handlers/unseal-node.handler.ts',
    description: 'Unseals one Vault node with KMS-wrapped Shamir shares.',
    timeoutSeconds: 60,
  },
  UnsealReport: {
    capability: 'unseal',
    entry: 'functions/handlers/unseal-report.handler.ts',
    description: 'Re-reads every node, publishes VaultSealed metrics and builds the unseal event.',
    timeoutSeconds: 30,
  },
  PrepareIntermediate: {
    capability: 'pki',
    entry: 'functions/handlers/prepare-intermediate.handler.ts',
    description: 'Makes, signs, imports and verifies the run\'s new intermediate issuer (not default yet).',
    timeoutSeconds: 120,
  },
  ActivateIssuer: {
    capability: 'pki',
    entry: 'functions/handlers/activate-issuer.handler.ts',
    description: 'Makes the run\'s intermediate the default issuer.',
    timeoutSeconds: 30,
  },
  RetireIssuer: {
    capability: 'pki',
    entry: 'functions/handlers/retire-issuer.handler.ts',
    description: 'Stops the old intermediate issuing; it keeps signing its CRL.',
    timeoutSeconds: 30,
  },
  RestoreIssuer: {
    capability: 'pki',
    entry: 'functions/handlers/restore-issuer.handler.ts',
    description: 'Rollback: issuance back on the previous default issuer.',
    timeoutSeconds: 30,
  },
} as const satisfies Record<string, { capability: Capability; entry: string; description: string; timeoutSeconds: number }>;

export type FunctionId = keyof typeof FunctionRegistry;
export const FunctionIds = Object.keys(FunctionRegistry) as FunctionId[];

/** The functions of one capability (each capability's functions share one environment). */
export function functionsOf(capability: Capability): FunctionId[] {
  return FunctionIds.filter((id) => FunctionRegistry[id].capability === capability);
}

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
