import { type AutoUnsealProvider, createLocalAutoUnseal } from './auto-unseal';
import { initializeCluster } from './cluster-init';
import { ClusterStorage, type SealType } from './cluster-storage';
import { type FaultControls, FaultRegistry } from './faults';
import { createNodeServer, DEFAULT_MAX_REQUEST_BYTES, type NodeServer, type TlsMaterial } from './http-server';
import { type ClusterContext, type RouteModule, RouteTable } from './router';
import { createSysRoutes } from './sys-routes';
import { createPolicyRoutes } from './policy-routes';
import { createAuditRoutes } from './audit-routes';
import { type NodeState, VaultNode } from './vault-node';

/**
 * The Vault emulator: several nodes sharing one storage (as raft would), each with its own HTTP
 * listener, seal state and unseal progress (DESIGN.md "The sandbox"; VAULT_API.md sections 0-3).
 * Everything is in memory; ports are OS-assigned; close() leaves no handle behind.
 */

export interface VaultNodeSpec {
  readonly id: string;
  /** @default 'shamir' */
  readonly seal?: SealType;
  /** @default 0 (OS-assigned) */
  readonly port?: number;
}

export interface VaultClusterOptions {
  /** @default three shamir nodes vault-0, vault-1, vault-2 */
  readonly nodes?: readonly VaultNodeSpec[];
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Serve HTTPS with this certificate and key instead of HTTP. */
  readonly tls?: TlsMaterial;
  /** KMS for awskms nodes; while `unwrap` rejects they stay sealed. @default an in-process AES-GCM key */
  readonly autoUnseal?: AutoUnsealProvider;
  /**
   * Status of a wrong share set at the threshold: 500 with the AES-GCM message (Vault >= 1.3), or
   * 400 `Unseal failed, invalid key` (VAULT_API.md 2.2). @default 500
   */
  readonly wrongKeyStatus?: 400 | 500;
  /** @default '1.19.0' */
  readonly version?: string;
  /** Period of the awskms nodes' own unseal retries. @default 200 */
  readonly autoUnsealIntervalMs?: number;
  /** How long a `sys/seal-status` read waits for a pending KMS answer. @default 1000 */
  readonly autoUnsealWaitMs?: number;
  /** @default 32 MiB (VAULT_API.md 0) */
  readonly maxRequestBytes?: number;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** More route modules (PKI, auth), registered after the sys routes. */
  readonly routes?: readonly RouteModule[];
}

export interface VaultNodeInfo {
  readonly id: string;
  /** e.g. `https://127.0.0.1:41234` (`http://` only for emulator tests without `tls`); node-vault's `endpoint`. */
  readonly url: string;
  readonly seal: SealType;
}

export interface VaultNodeControl {
  readonly id: string;
  readonly url: string;
  readonly sealType: SealType;
  /** Seal as after a restart: progress dropped; an awskms node goes back to unsealing itself. */
  seal(): void;
  state(): NodeState;
  /** One auto-unseal attempt now (awskms); resolves true when the node is unsealed. */
  tryAutoUnseal(): Promise<boolean>;
  /**
   * As a Kubernetes pod rescheduled elsewhere: the node restarts (sealed) on a new OS-assigned
   * port of the same host; resolves its new URL. Its storage (the raft data) stays.
   */
  reschedule(): Promise<string>;
}

export interface BootstrapOptions {
  /** Unseal shares (shamir) or recovery shares (awskms). @default 5 */
  readonly shares?: number;
  /** @default 3 */
  readonly threshold?: number;
}

/** Secret material for test code only: never log it. */
export interface BootstrapResult {
  readonly rootToken: string;
  readonly keys: readonly string[];
  readonly recoveryKeys: readonly string[];
}

export interface VaultClusterHandle {
  readonly nodes: readonly VaultNodeInfo[];
  node(id: string): VaultNodeControl;
  /** The root token once the cluster is initialized. */
  rootToken(): string | undefined;
  readonly faults: FaultControls;
  /** Adds a route module (PKI, auth...) to every node. */
  registerRoutes(module: RouteModule): void;
  /** Initializes (if needed, in process) and unseals every node: a ready cluster for PKI tests. */
  bootstrap(options?: BootstrapOptions): Promise<BootstrapResult>;
  /** Connections every node's listener has accepted, listeners closed by a reschedule included. */
  connections(): number;
  close(): Promise<void>;
}

const DEFAULT_NODES: readonly VaultNodeSpec[] = [{ id: 'vault-0' }, { id: 'vault-1' }, { id: 'vault-2' }];
const BUILD_DATE = '2025-03-04T17:06:33Z';

function validateNodes(nodes: readonly VaultNodeSpec[]): SealType {
  if (nodes.length === 0) throw new Error('startVaultCluster: at least one node is needed');
  const ids = new Set(nodes.map((n) => n.id));
  if (ids.size !== nodes.length) throw new Error('startVaultCluster: node ids must be unique');
  const sealTypes = new Set(nodes.map((n) => n.seal ?? 'shamir'));
  // One raft cluster has one seal configuration in storage; mixing seals is a migration, not emulated.
  if (sealTypes.size !== 1) throw new Error('startVaultCluster: all nodes of one cluster need the same seal type');
  return [...sealTypes][0] ?? 'shamir';
}

export async function startVaultCluster(options: VaultClusterOptions = {}): Promise<VaultClusterHandle> {
  const specs = options.nodes ?? DEFAULT_NODES;
  const sealType = validateNodes(specs);
  const host = options.host ?? '127.0.0.1';
  const version = options.version ?? '1.19.0';
  const autoUnseal = options.autoUnseal ?? createLocalAutoUnseal();
  const storage = new ClusterStorage(options.clock ?? (() => new Date()));
  const settings = {
    wrongKeyStatus: options.wrongKeyStatus ?? 500,
    version,
    buildDate: BUILD_DATE,
    autoUnseal,
    autoUnsealWaitMs: options.autoUnsealWaitMs ?? 1000,
  } as const;
  const nodes = specs.map((spec) => new VaultNode(spec.id, sealType, storage, settings));
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const cluster: ClusterContext = {
    storage,
    nodes,
    node(id) {
      const node = byId.get(id);
      if (!node) throw new Error(`no Vault node ${id}`);
      return node;
    },
  };

  const routes = new RouteTable();
  const registerRoutes = (module: RouteModule): void => routes.register(module(cluster));
  registerRoutes(createSysRoutes({ autoUnseal, version }));
  registerRoutes(createPolicyRoutes);
  registerRoutes(createAuditRoutes);
  (options.routes ?? []).forEach(registerRoutes);

  const faults = new FaultRegistry();
  const closing = new AbortController();
  const servers: NodeServer[] = [];
  const serve = async (index: number, port: number): Promise<void> => {
    const node = nodes[index]!;
    const server = createNodeServer({
      node,
      cluster,
      routes,
      faults,
      maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
      tls: options.tls,
      closing: closing.signal,
    });
    servers[index] = server;
    const address = await server.listen(port, host);
    const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    storage.addresses.set(node.id, `${options.tls ? 'https' : 'http'}://${urlHost}:${address.port}`);
  };
  try {
    for (const index of nodes.keys()) await serve(index, specs[index]?.port ?? 0);
  } catch (err) {
    await Promise.all(servers.map((server) => server.close()));
    throw err;
  }

  // awskms nodes keep retrying KMS on their own while sealed (VAULT_API.md 2.1).
  const retryTimer =
    sealType === 'awskms'
      ? setInterval(() => nodes.forEach((node) => void node.tryAutoUnseal()), options.autoUnsealIntervalMs ?? 200)
      : undefined;
  retryTimer?.unref();

  let closed: Promise<void> | undefined;
  let closedConnections = 0;
  return {
    connections: () => servers.reduce((sum, server) => sum + server.connections(), closedConnections),
    // A getter: a rescheduled node has a new URL.
    get nodes() {
      return nodes.map((node) => ({ id: node.id, url: node.url, seal: node.sealType }));
    },
    node(id) {
      const node = cluster.node(id);
      return {
        id: node.id,
        url: node.url,
        sealType: node.sealType,
        seal: () => node.restart(),
        state: () => node.state(),
        tryAutoUnseal: () => node.tryAutoUnseal(),
        reschedule: async () => {
          const index = nodes.indexOf(node);
          const replaced = servers[index]!;
          await replaced.close();
          closedConnections += replaced.connections();
          await serve(index, 0);
          node.restart();
          return node.url;
        },
      };
    },
    rootToken: () => storage.init?.rootToken,
    faults,
    registerRoutes,
    async bootstrap(bootstrapOptions = {}) {
      const shares = bootstrapOptions.shares ?? 5;
      const threshold = bootstrapOptions.threshold ?? 3;
      if (storage.init) throw new Error('bootstrap: the cluster is already initialized');
      const recovery = sealType === 'awskms';
      const body = await initializeCluster(
        storage,
        sealType,
        {
          secretShares: recovery ? 0 : shares,
          secretThreshold: recovery ? 0 : threshold,
          pgpKeys: [],
          recoveryShares: recovery ? shares : 0,
          recoveryThreshold: recovery ? threshold : 0,
          recoveryPgpKeys: [],
        },
        autoUnseal,
      );
      for (const node of nodes) {
        if (recovery) await node.tryAutoUnseal();
        else body.keys.slice(0, threshold).forEach((key) => node.submitUnsealKey(Buffer.from(key, 'hex'), false));
      }
      return { rootToken: body.root_token, keys: body.keys, recoveryKeys: body.recovery_keys ?? [] };
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        if (retryTimer) clearInterval(retryTimer);
        await Promise.all(servers.map((server) => server.close()));
      })();
      return closed;
    },
  };
}
