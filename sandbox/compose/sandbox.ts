import { declaredServices, sandboxTargetPolicy } from './declared-services';
import { KMSClient, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { CertflowConfig } from '../../lib/config';
import type { Env } from '../../functions/contracts/env';
import { fillRunTimeValues } from './run-time-values';
import { startSsmEmulator, type SsmEmulatorHandle } from '../ssm/ssm-emulator';
import { startKmsEmulator, type KmsEmulatorHandle } from '../kms/kms-emulator';
import { startEventBridgeEmulator, type EventBridgeEmulatorHandle } from '../eventbridge/eventbridge-emulator';
import { startDynamoDb, type DynamoDbSandbox } from '../dynamodb/dynamodb-sandbox';
import { startSecretsManagerEmulator, type SecretsManagerEmulatorHandle } from '../secrets-manager/secrets-manager-emulator';
import { startVaultCluster, type VaultClusterHandle } from '../vault/vault-cluster';
import { createServingCertificate } from '../x509/serving-certificate';
import type { AutoUnsealProvider } from '../vault/auto-unseal';
import type { RouteModule } from '../vault/router';
import { createPkiRoutes } from '../vault/pki/pki-routes';
import { createAuthRoutes, type AuthRoutes } from '../vault/auth/auth-routes';
import type { CfnTemplate } from '../runner/template-resolver';
import { provisionFromTemplate, type ProvisionedResources } from './template-provisioner';
import { IamAuthorizer } from '../iam/iam-authorizer';
import { SecretLedger } from './secret-ledger';
import { addKeyOperators, addOperator, addReporters, provisionIdentities, reporterRoleArns, type ProvisionedIdentities } from '../iam/sandbox-identities';
import { startKubernetesEmulator, type KubernetesEmulatorHandle } from '../kubernetes/kubernetes-emulator';
import { applyShippedRbac } from './shipped-rbac';
import { startCertManagerController, type CertManagerController } from '../cert-manager/cert-manager-controller';
import { startServiceEndpoints, type ServiceEndpoints } from '../services/service-endpoints';
import { DEFAULT_ISSUER_REF, managedServices, seedKubernetes, type KubernetesSeed } from './kubernetes-seed';
import { discoveredNodeIds, moveVaultPod, registerVaultPods } from './vault-pods';

/**
 * The embedded environment: a Vault cluster, KMS, DynamoDB (dynalite) and EventBridge, each on
 * an OS-assigned loopback port, all state in memory. The real SDK clients and node-vault talk to
 * them over HTTP exactly as they would to AWS and Vault.
 */
export interface SandboxOptions {
  config: CertflowConfig;
  /** Seal type per node id; every node uses config.vault.seal otherwise. */
  nodeSeals?: Readonly<Record<string, 'shamir' | 'awskms'>>;
  /** Status Vault gives a wrong share set at the threshold. @default 500 */
  wrongKeyStatus?: 400 | 500;
}

/** The Vault nodes as pods of the StatefulSet a `vault.discovery` config names (vault-pods.ts). */
export interface SandboxVaultPods {
  /** Restarts the node (sealed) on a new port and replaces its pod with one naming that port, as a rescheduled StatefulSet pod. */
  reschedule(nodeId: string): Promise<string>;
}

// The sandbox's fixed names, in a module of their own so that a CLI command that only talks to a
// running sandbox does not load every emulator (and their libraries) to read them.
export { SANDBOX_ACCOUNT, SANDBOX_CREDENTIALS, SANDBOX_OPERATOR_ROLE_ARN, SANDBOX_OPERATOR_SESSION_ARN, SANDBOX_REGION } from './sandbox-constants';
import { SANDBOX_ACCOUNT, SANDBOX_CREDENTIALS, SANDBOX_OPERATOR_ROLE_ARN, SANDBOX_OPERATOR_SESSION_ARN, SANDBOX_REGION } from './sandbox-constants';

export interface Sandbox {
  /**
   * The config with the Vault node addresses and CA replaced by the sandbox's; a config with
   * `vault.discovery` keeps it (the nodes are its StatefulSet's pods) and gets no `vault.nodes`.
   */
  config: CertflowConfig;
  /** Present when the config discovers its Vault nodes: the nodes are registered as its StatefulSet's pods. */
  vaultPods?: SandboxVaultPods;
  vault: VaultClusterHandle;
  /**
   * The CA (PEM) of the Vault nodes' HTTPS listeners, made at each start: pinned like a production
   * Vault's (config vault.caCertificate), so nothing reaches the sandbox's Vault over plain HTTP.
   */
  vaultCaCertificate: string;
  /** Vault auth methods (AWS IAM principals are registered here). */
  vaultAuth: AuthRoutes;
  kms: KmsEmulatorHandle;
  dynamo: DynamoDbSandbox;
  eventBridge: EventBridgeEmulatorHandle;
  secretsManager: SecretsManagerEmulatorHandle;
  /** SSM Parameter Store: the run-time values the template names (run-time-values.ts). */
  ssm: SsmEmulatorHandle;
  /** The Kubernetes API emulator (HTTPS, so kubectl works with its kubeconfig()). */
  kubernetes: KubernetesEmulatorHandle;
  /** The bearer token the functions reach the cluster with: user `certflow`, bound by the shipped RBAC only. */
  kubernetesFunctionToken: string;
  /** cert-manager for the emulator, signing through the Vault emulator once Vault has a PKI. */
  certManager: CertManagerController;
  /** One mTLS endpoint per configured service; each serves once its Secret exists. */
  services: ServiceEndpoints;
  /**
   * Seeds the cluster (namespace, Deployments, Certificates, TLS Secrets, trust bundle) once the
   * PKI is set up (setupSandboxPki), with endpoint annotations, and waits for the initial
   * Certificates. The result holds the verifier's client credentials: keep them in memory.
   */
  seedKubernetes(pki: { rootToken: string; rootCertificate?: string }): Promise<KubernetesSeed>;
  kmsClient: KMSClient;
  dynamoDbClient: DynamoDBClient;
  eventBridgeClient: EventBridgeClient;
  /** AWS_* variables that point an SDK client at the sandbox (with the operator's credentials). */
  awsEnv: Env;
  /**
   * Creates the template's tables, keys, buses, parameters and secrets, fills in the run-time
   * values (the sandbox's addresses, its cluster's token), mints a key per IAM role of the template
   * and from then on enforces IAM on every AWS call; returns the names to resolve Refs with.
   */
  provision(template: CfnTemplate): Promise<ProvisionedResources>;
  /** Decides (and counts) every AWS call once a template is provisioned. */
  iam: IamAuthorizer;
  /** Every private key, Vault token and AppRole secret id that appeared since the sandbox started. */
  secretLedger: SecretLedger;
  /** The template's roles and their keys, once provisioned. */
  identities(): ProvisionedIdentities | undefined;
  /**
   * The role ARNs one Vault AWS IAM auth role binds: the functions whose environment names it (one
   * group of functions), or the operator's before a template is provisioned (emulator tests with
   * no functions).
   */
  vaultLoginRoleArns(vaultRole: string): string[];
  /**
   * What a certflow function gets on top of its template environment: the AWS region and the
   * sandbox's endpoints, nothing else (the runner adds each function's own credentials).
   */
  functionAwsEnv(): Env;
  /**
   * Called with the path of every write (update) the Vault cluster's PKI and auth routes answered
   * with success, e.g. `auth/aws/role/certflow-lambda`; returns the unsubscribe function. How an
   * `--uninitialized` sandbox notices the operator's PKI set-up done from another process.
   */
  onVaultWrite(listener: (path: string) => void): () => void;
  /** Runs `close` when the sandbox closes, before the emulators it registered before. */
  onClose(close: () => Promise<void>): void;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const closers: Array<() => Promise<void>> = [];
  try {
    const kms = await startKmsEmulator({ region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT });
    closers.push(() => kms.close());
    const eventBridge = await startEventBridgeEmulator({ region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT });
    closers.push(() => eventBridge.close());
    const dynamo = await startDynamoDb({ region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT, credentials: SANDBOX_CREDENTIALS });
    closers.push(() => dynamo.close());
    const secretsManager = await startSecretsManagerEmulator({ region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT });
    closers.push(() => secretsManager.close());
    const ssm = await startSsmEmulator({ region: SANDBOX_REGION, accountId: SANDBOX_ACCOUNT });
    closers.push(() => ssm.close());

    const clientConfig = { region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS, maxAttempts: 1 };
    const kmsClient = new KMSClient({ ...clientConfig, endpoint: kms.endpoint });
    const dynamoDbClient = new DynamoDBClient({ ...clientConfig, endpoint: dynamo.endpoint });
    const eventBridgeClient = new EventBridgeClient({ ...clientConfig, endpoint: eventBridge.endpoint });
    closers.push(async () => {
      kmsClient.destroy();
      dynamoDbClient.destroy();
      eventBridgeClient.destroy();
    });

    // awskms nodes wrap their root key with a key of their own in the KMS emulator, over the real
    // client: when the emulator is down or refuses, they stay sealed, as Vault does (VAULT_API 3.3).
    const sealKey = kms.createKey({ alias: 'alias/vault-seal', description: 'Vault awskms seal key' });
    const autoUnseal: AutoUnsealProvider = {
      wrap: async (plain) => Buffer.from((await kmsClient.send(new EncryptCommand({ KeyId: sealKey.keyId, Plaintext: plain }))).CiphertextBlob!),
      unwrap: async (blob) => Buffer.from((await kmsClient.send(new DecryptCommand({ KeyId: sealKey.keyId, CiphertextBlob: blob }))).Plaintext!),
    };
    const vaultAuth = createAuthRoutes({ awsMount: authMount(options.config, 'aws-iam') ?? 'aws', approleMount: authMount(options.config, 'approle') ?? 'approle' });
    // STS would answer GetCallerIdentity with the caller's role session: the operator's here, each
    // template role's once provisioned.
    vaultAuth.registerAwsPrincipal(SANDBOX_CREDENTIALS.accessKeyId, SANDBOX_OPERATOR_SESSION_ARN, { secretAccessKey: SANDBOX_CREDENTIALS.secretAccessKey });
    const iam = new IamAuthorizer(SANDBOX_ACCOUNT);
    addOperator(iam, { accessKeyId: SANDBOX_CREDENTIALS.accessKeyId, roleArn: SANDBOX_OPERATOR_ROLE_ARN, sessionArn: SANDBOX_OPERATOR_SESSION_ARN });
    addReporters(iam, reporterRoleArns(options.config.compromise.reporterPrincipals, SANDBOX_ACCOUNT));
    addKeyOperators(iam, reporterRoleArns(options.config.kms.operatorRoles, SANDBOX_ACCOUNT));
    let identities: ProvisionedIdentities | undefined;
    const secretLedger = new SecretLedger();
    const vaultWriteListeners = new Set<(path: string) => void>();
    // Vault serves HTTPS under a CA of its own, pinned exactly as a production Vault's CA is:
    // there is no plain-http path to Vault, not even on loopback (issue 13 item 1).
    const vaultTls = await createServingCertificate('127.0.0.1', 'certflow-sandbox-vault');
    const vaultCaCertificate = vaultTls.certPem;
    const vault = await startVaultCluster({
      tls: { cert: vaultTls.certPem, key: vaultTls.keyPem },
      nodes: vaultNodeIds(options.config).map((id) => ({ id, seal: options.nodeSeals?.[id] ?? options.config.vault.seal })),
      routes: [createPkiRoutes({ mounts: [options.config.vault.rootMount, options.config.vault.intermediateMount] }), vaultAuth.routes].map((routes) =>
        announcingWrites(secretLedger.recordingVaultRoutes(routes), vaultWriteListeners),
      ),
      autoUnseal,
      ...(options.wrongKeyStatus ? { wrongKeyStatus: options.wrongKeyStatus } : {}),
    });
    closers.push(() => vault.close());

    // kubectl sends no token over plain HTTP: the emulator serves HTTPS.
    // A Deployment rolls out in 20 ms, as the runner's Wait states wait 10 ms: time runs fast here.
    const kubernetes = await startKubernetesEmulator({ tls: true, rolloutDelayMs: 20 });
    closers.push(() => kubernetes.close());
    // The functions' token is a user bound by the shipped RBAC only (deploy/kubernetes/rbac.yaml).
    const functionsClusterToken = applyShippedRbac(kubernetes);
    secretLedger.watchKubernetes(kubernetes.store);
    // With discovery the nodes are the StatefulSet's pods, found by the functions' own listing.
    const discovery = options.config.vault.discovery;
    if (discovery) registerVaultPods(kubernetes, discovery, vault.nodes);
    // cert-manager's Vault Issuer pins the same CA (its spec.vault.caBundle).
    const vaultIssuer = { url: vault.nodes[0]!.url, caBundle: vaultCaCertificate, mount: options.config.vault.intermediateMount, role: options.config.vault.role };
    // The root token exists only after vault-init: until then the controller has nothing to do.
    // cert-manager backs off for seconds to hours after a failed issuance; the sandbox compresses
    // time as its Wait states do, so a 409 storm clears in a few rollout looks.
    const certManager = startCertManagerController({ kubernetes, vault: { ...vaultIssuer, token: () => vault.rootToken() }, issuerRef: DEFAULT_ISSUER_REF, retry: { initialMs: 20, maxMs: 500 } });
    closers.push(() => certManager.close());
    const services = await startServiceEndpoints({ kubernetes, services: managedServices(options.config) });
    const managed = new Set(services.services.map((service) => service.name));
    closers.push(() => services.close());

    const config: CertflowConfig = {
      ...options.config,
      vault: { ...options.config.vault, ...(discovery ? {} : { nodes: vault.nodes.map((node) => ({ id: node.id, url: node.url })) }), caCertificate: vaultCaCertificate },
    };
    const vaultPods: SandboxVaultPods | undefined = discovery && {
      reschedule: async (nodeId) => {
        const url = await vault.node(nodeId).reschedule();
        moveVaultPod(kubernetes, discovery, nodeId, url);
        return url;
      },
    };
    const awsEnv: Env = {
      AWS_REGION: SANDBOX_REGION,
      AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    };
    const { AWS_ACCESS_KEY_ID: _operatorKey, AWS_SECRET_ACCESS_KEY: _operatorSecret, ...functionAwsEnv } = awsEnv;
    return {
      config,
      ...(vaultPods ? { vaultPods } : {}),
      vault,
      vaultCaCertificate,
      vaultAuth,
      kms,
      dynamo,
      eventBridge,
      secretsManager,
      ssm,
      kubernetes,
      kubernetesFunctionToken: functionsClusterToken,
      certManager,
      services,
      seedKubernetes: (pki) =>
        seedKubernetes(
          { kubernetes, vault: { ...vaultIssuer, token: pki.rootToken }, ...(pki.rootCertificate ? { rootCertificate: pki.rootCertificate } : {}), endpoint: (name) => services.endpoint(name), awaitIssuanceMs: 15_000 },
          options.config,
        ),
      kmsClient,
      dynamoDbClient,
      eventBridgeClient,
      awsEnv,
      provision: async (template) => {
        const provisioned = await provisionFromTemplate(template, { kms, kmsClient, dynamo, eventBridge, secretsManager, ssm });
        fillRunTimeValues({ ssm, secretsManager }, options.config.name, Object.values(provisioned.secrets), {
          // A template with discovery has no nodes parameter: its functions find the pods themselves.
          ...(discovery ? {} : { vaultNodes: vault.nodes.map((node) => ({ id: node.id, url: node.url })) }),
          vaultAddress: vault.nodes[0]!.url,
          vaultCaCertificate,
          // Sandbox rollouts take milliseconds and Wait states 10 ms: a seed rotation's canary and
          // batch are ready at their second look, but cert-manager backs off after failed writes
          // (20 ms here, doubling), so a 409 storm needs a few looks: 25 leave room for a loaded
          // machine, plus one per service, since a large fleet shares one event loop with its emulators.
          // At most the functions' own bound (10,000), for the largest benchmark fleets.
          maxRolloutChecks: Math.min(10_000, 25 + declaredServices(config).length),
          targetPolicy: sandboxTargetPolicy(config, (name) => (managed.has(name) ? services.endpoint(name) : undefined)),
          // The one sandbox cluster, over HTTPS with its CA; the functions' token (the shipped RBAC's
          // user, not the administrator) goes only into the cluster's secret.
          cluster: { server: kubernetes.url, token: functionsClusterToken, caData: Buffer.from(kubernetes.caCertificate ?? '').toString('base64') },
        });
        // The functions now read this token from Secrets Manager: the scan looks for it too.
        secretLedger.record('cluster-token', functionsClusterToken);
        identities = await provisionIdentities(iam, {
          template,
          region: SANDBOX_REGION,
          accountId: SANDBOX_ACCOUNT,
          refs: provisioned.refs,
          attributes: provisioned.attributes,
          keyArns: Object.fromEntries(Object.entries(provisioned.keys).map(([logicalId, key]) => [logicalId, key.arn])),
          busArns: Object.fromEntries(Object.entries(provisioned.buses).map(([logicalId, name]) => [name, provisioned.attributes[`${logicalId}.Arn`]!])),
        });
        for (const role of identities.roles) {
          vaultAuth.registerAwsPrincipal(role.credentials.accessKeyId, role.sessionArn, { secretAccessKey: role.credentials.secretAccessKey });
        }
        const authorize = iam.authorize.bind(iam);
        for (const service of [kms, eventBridge, dynamo, secretsManager, ssm]) service.setAuthorizer(authorize);
        return provisioned;
      },
      iam,
      secretLedger,
      identities: () => identities,
      vaultLoginRoleArns: (vaultRole) => (identities ? (identities.vaultLoginRoleArns[vaultRole] ?? []) : [SANDBOX_OPERATOR_ROLE_ARN]),
      functionAwsEnv: () => functionAwsEnv,
      onVaultWrite(listener) {
        vaultWriteListeners.add(listener);
        return () => vaultWriteListeners.delete(listener);
      },
      onClose(close) {
        closers.push(close);
      },
      async close() {
        for (const close of closers.reverse()) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

/** Tells the listeners of each successful write (an `update` answered below 400), after it is done. */
function announcingWrites(module: RouteModule, listeners: ReadonlySet<(path: string) => void>): RouteModule {
  return (cluster) =>
    module(cluster).map((route) => {
      const update = route.operations.update;
      if (!update) return route;
      return {
        ...route,
        operations: {
          ...route.operations,
          update: async (ctx, request) => {
            const response = await update(ctx, request);
            if (response.status < 400) for (const listener of [...listeners]) listener(request.path);
            return response;
          },
        },
      };
    });
}

function authMount(config: CertflowConfig, method: 'aws-iam' | 'approle'): string | undefined {
  return config.vault.auth.method === method ? config.vault.auth.mount : undefined;
}

/**
 * The nodes the sandbox starts: those of `vault.nodes`, or with `vault.discovery` the pods of its
 * StatefulSet (`<statefulSet>-0` ... `-2`), registered in the Kubernetes emulator once it runs.
 */
function vaultNodeIds(config: CertflowConfig): string[] {
  if (config.vault.nodes) return config.vault.nodes.map((node) => node.id);
  if (config.vault.discovery) return discoveredNodeIds(config.vault.discovery);
  throw new Error('the config names neither vault.nodes nor vault.discovery');
}
