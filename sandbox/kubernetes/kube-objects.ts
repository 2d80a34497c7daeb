/**
 * The object shapes the emulator stores, as JSON (what the API server sends on the wire), typed
 * only as far as the emulator and its tests read them: everything else passes through untouched.
 */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  /** An opaque string; here a global counter bumped on every write. */
  resourceVersion?: string;
  /** Deployments and Certificates only: bumped when the spec changes. */
  generation?: number;
  /** RFC 3339, whole seconds. */
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface NamespaceObject extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating' };
}

export interface SecretObject extends KubeObject {
  /** `Opaque` when absent on create; `kubernetes.io/tls` requires `tls.crt` and `tls.key`. */
  type?: string;
  /** Base64 values. */
  data?: Record<string, string>;
  /** Write-only: folded into `data` (base64-encoded) on every write, never stored. */
  stringData?: Record<string, string>;
  immutable?: boolean;
}

export interface ConfigMapObject extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

export interface Container {
  name: string;
  image?: string;
  [field: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  [field: string]: unknown;
}

export interface PodObject extends KubeObject {
  spec: PodSpec;
  status?: { phase?: string; podIP?: string; [field: string]: unknown };
}

export interface LabelSelectorRequirementSpec {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** The structured selector of `spec.selector` (as opposed to the `?labelSelector=` string). */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirementSpec[];
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [field: string]: unknown };
  spec: PodSpec;
}

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: DeploymentCondition[];
  [field: string]: unknown;
}

export interface DeploymentObject extends KubeObject {
  spec: {
    /** @default 1 */
    replicas?: number;
    selector: LabelSelectorSpec;
    template: PodTemplate;
    paused?: boolean;
    [field: string]: unknown;
  };
  status?: DeploymentStatus;
}

export interface CertificateCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** cert-manager.io/v1 Certificate, with the fields certflow and the sandbox controller use. */
export interface CertificateObject extends KubeObject {
  spec: {
    secretName: string;
    issuerRef: { name: string; kind?: string; group?: string };
    commonName?: string;
    dnsNames?: string[];
    duration?: string;
    renewBefore?: string;
    [field: string]: unknown;
  };
  status?: {
    conditions?: CertificateCondition[];
    notBefore?: string;
    notAfter?: string;
    renewalTime?: string;
    revision?: number;
    [field: string]: unknown;
  };
}

/** The resources the emulator serves, by their REST name. */
export interface ResourceTypes {
  namespaces: NamespaceObject;
  secrets: SecretObject;
  configmaps: ConfigMapObject;
  pods: PodObject;
  deployments: DeploymentObject;
  certificates: CertificateObject;
}

export type ResourceName = keyof ResourceTypes;

/** Which object: `name` alone for namespaces, `namespace` and `name` for everything else. */
export interface ObjectKey {
  readonly namespace?: string;
  readonly name: string;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
