import type { AutoUnsealProvider } from './auto-unseal';
import { initializeCluster } from './cluster-init';
import { bare, noContent, PERMISSION_DENIED_MESSAGE, SEALED_MESSAGE, VaultApiError } from './envelope';
import { boolField, intField, parseGoBool, parseGoInt, stringField, stringListField } from './request-values';
import type { ClusterContext, RouteContext, RouteDefinition, RouteModule, VaultRequest } from './router';
import { MAX_KEY_BYTES, MIN_KEY_BYTES } from './vault-node';

/**
 * The raw `sys/*` handlers of VAULT_API.md section 2. All of them are answered by the node that is
 * called, sealed or not, and never forwarded (1.3); their bodies are bare JSON, not the envelope.
 */

export interface SysRouteSettings {
  readonly autoUnseal: AutoUnsealProvider;
  readonly version: string;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * An unseal key: hex first, then standard base64 when the text is not hex or decodes to a length
 * the barrier cannot take, so `keys` and `keys_base64` both work (2.2; http/sys_seal.go).
 */
export function decodeUnsealKey(text: string): Buffer {
  if (HEX.test(text)) {
    const bytes = Buffer.from(text, 'hex');
    if (bytes.length >= MIN_KEY_BYTES && bytes.length <= MAX_KEY_BYTES) return bytes;
  }
  if (STD_BASE64.test(text)) return Buffer.from(text, 'base64');
  throw new VaultApiError(400, "'key' must be a valid hex or base64 string");
}

function requireRootToken(cluster: ClusterContext, request: VaultRequest): void {
  const entry = cluster.storage.tokens.lookup(request.clientToken);
  if (!cluster.storage.tokens.isRoot(entry)) throw new VaultApiError(403, PERMISSION_DENIED_MESSAGE);
}

async function sealStatus({ node }: RouteContext) {
  // A read is also a moment for a sealed awskms node to retry KMS (it retries on its own in Vault).
  if (node.sealType === 'awskms' && node.sealed) await node.tryAutoUnsealWithin();
  return bare(node.sealStatus());
}

function unseal({ node }: RouteContext, request: VaultRequest) {
  const reset = boolField(request.body, 'reset');
  const key = stringField(request.body, 'key');
  const migrate = boolField(request.body, 'migrate');
  // Both sent: reset wins (2.2).
  if (reset) {
    node.resetUnsealProgress();
    return bare(node.sealStatus());
  }
  if (key === '') {
    throw new VaultApiError(400, "'key' must be specified in request body as JSON, or 'reset' set to true");
  }
  const decoded = decodeUnsealKey(key);
  try {
    node.submitUnsealKey(decoded, migrate);
  } finally {
    decoded.fill(0);
  }
  return bare(node.sealStatus());
}

function initStatus({ cluster }: RouteContext) {
  return bare({ initialized: cluster.storage.init !== undefined });
}

async function initialize({ node, cluster }: RouteContext, request: VaultRequest, settings: SysRouteSettings) {
  const body = await initializeCluster(
    cluster.storage,
    node.sealType,
    {
      secretShares: intField(request.body, 'secret_shares'),
      secretThreshold: intField(request.body, 'secret_threshold'),
      pgpKeys: stringListField(request.body, 'pgp_keys'),
      recoveryShares: intField(request.body, 'recovery_shares'),
      recoveryThreshold: intField(request.body, 'recovery_threshold'),
      recoveryPgpKeys: stringListField(request.body, 'recovery_pgp_keys'),
    },
    settings.autoUnseal,
  );
  // awskms nodes unseal themselves through KMS right after init (UnsealWithStoredKeys, 2.3); a
  // Shamir cluster stays sealed everywhere until shares arrive node by node.
  await Promise.all(cluster.nodes.map((member) => member.tryAutoUnsealWithin()));
  return bare(body);
}

/** Status-code query parameters of `sys/health` with Vault's defaults (2.4; http/sys_health.go). */
const HEALTH_CODES = {
  uninitcode: 501,
  sealedcode: 503,
  standbycode: 429,
  activecode: 200,
  drsecondarycode: 472,
  performancestandbycode: 473,
} as const;

function healthCodes(query: URLSearchParams): Record<keyof typeof HEALTH_CODES, number> & { standbyOk: boolean } {
  const flag = (name: string): boolean => {
    if (!query.has(name)) return false;
    const parsed = parseGoBool(query.get(name) ?? '');
    if (parsed === undefined) throw new VaultApiError(400);
    return parsed;
  };
  const standbyOk = flag('standbyok');
  flag('perfstandbyok'); // parsed for its 400; the emulator has no performance standbys
  const codes = { ...HEALTH_CODES } as Record<keyof typeof HEALTH_CODES, number>;
  for (const name of Object.keys(HEALTH_CODES) as (keyof typeof HEALTH_CODES)[]) {
    if (!query.has(name)) continue;
    const code = parseGoInt(query.get(name) ?? '');
    // Not an integer: 400 with an empty error list. Outside 100..999 Go cannot even write it.
    if (code === undefined || code < 100 || code > 999) throw new VaultApiError(400);
    codes[name] = code;
  }
  return { ...codes, standbyOk };
}

function health({ node, cluster }: RouteContext, request: VaultRequest, settings: SysRouteSettings) {
  const codes = healthCodes(request.query);
  const init = cluster.storage.init;
  // Precedence of the code: not initialized, sealed, (DR, perf standby: none here), standby, active.
  let status = codes.activecode;
  if (!init) status = codes.uninitcode;
  else if (node.sealed) status = codes.sealedcode;
  else if (node.isStandby() && !codes.standbyOk) status = codes.standbycode;
  return bare(
    {
      initialized: init !== undefined,
      sealed: node.sealed,
      standby: !node.isActive(),
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(cluster.storage.now().getTime() / 1000),
      version: settings.version,
      ...(init && !node.sealed ? { cluster_name: init.clusterName, cluster_id: init.clusterId } : {}),
      enterprise: false,
      echo_duration_ms: 0,
      clock_skew_ms: 0,
    },
    status,
  );
}

function leader({ node, cluster }: RouteContext) {
  // The leader lookup of a sealed HA node returns ErrSealed, mapped to 503 (2.5).
  if (node.sealed) throw new VaultApiError(503, SEALED_MESSAGE);
  const { ha } = cluster.storage;
  const activeId = ha.activeNodeId;
  const activeUrl = activeId === undefined ? '' : (cluster.storage.addresses.get(activeId) ?? '');
  const isSelf = activeId === node.id;
  return bare({
    ha_enabled: true,
    is_self: isSelf,
    active_time: isSelf && ha.activeSince ? ha.activeSince.toISOString() : '0001-01-01T00:00:00Z',
    leader_address: activeUrl,
    // The cluster port (8201) is not emulated; nodes talk through shared memory.
    leader_cluster_address: activeUrl,
    performance_standby: false,
    performance_standby_last_remote_wal: 0,
    raft_committed_index: cluster.storage.raftIndex,
    raft_applied_index: cluster.storage.raftIndex,
  });
}

function seal({ node, cluster }: RouteContext, request: VaultRequest) {
  // Same order as core.SealWithRequest / sealInitCommon: sealed is a no-op, standby refuses, then the token.
  if (node.sealed) return noContent();
  if (node.isStandby()) throw new VaultApiError(500, 'vault cannot seal when in standby mode; please restart instead');
  requireRootToken(cluster, request);
  node.operatorSeal();
  return noContent();
}

function stepDown({ node, cluster }: RouteContext, request: VaultRequest) {
  if (node.sealed) return noContent();
  requireRootToken(cluster, request);
  // Forwarded to the active node in Vault: whichever node is asked, the active one steps down.
  cluster.storage.ha.stepDown();
  return noContent();
}

export function createSysRoutes(settings: SysRouteSettings): RouteModule {
  return (): readonly RouteDefinition[] => [
    { pattern: 'sys/seal-status', availableWhenSealed: true, auth: 'none', operations: { read: sealStatus } },
    { pattern: 'sys/unseal', availableWhenSealed: true, auth: 'none', operations: { update: unseal } },
    {
      pattern: 'sys/init',
      availableWhenSealed: true,
      auth: 'none',
      operations: { read: initStatus, update: (ctx, request) => initialize(ctx, request, settings) },
    },
    {
      pattern: 'sys/health',
      availableWhenSealed: true,
      auth: 'none',
      operations: {
        read: (ctx, request) => health(ctx, request, settings),
        head: (ctx, request) => health(ctx, request, settings),
      },
    },
    { pattern: 'sys/leader', availableWhenSealed: true, auth: 'none', operations: { read: leader } },
    { pattern: 'sys/seal', availableWhenSealed: true, auth: 'none', operations: { update: seal } },
    { pattern: 'sys/step-down', availableWhenSealed: true, auth: 'none', operations: { update: stepDown } },
  ];
}
