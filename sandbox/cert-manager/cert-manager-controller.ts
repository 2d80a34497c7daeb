import { performance } from 'node:perf_hooks';
import { certificatesOf } from '../x509/pem-certificates';
import type { Log } from '../../functions/ports/log';
import type { CertificateObject, KubernetesEmulatorHandle, SecretObject } from '../kubernetes/kubernetes-emulator';
import { CertificateReasons, ConditionTypes, isIssuing, kubeTime, removeCondition, setCondition } from './certificate-conditions';
import { issuanceTrigger, renewalTime, type Trigger } from './issuance-triggers';
import { createKeyAndRequest, keySpecOf } from './private-key-request';
import { createVaultSigner, type TlsBundle, type VaultIssuerConfig, type VaultSigner } from './vault-signer';

/**
 * The sandbox's cert-manager (DESIGN.md, The sandbox): a controller over the Kubernetes
 * emulator's cert-manager.io/v1 Certificates that honours `Issuing=True` (what `cmctl renew`
 * sets, and what certflow's renewal of a cert-manager target sets) and issues a Certificate whose
 * Secret is missing, unreadable, expired or due for renewal. Each issuance makes a new key
 * (ECDSA P-256, or RSA when spec.privateKey says so), a CSR with the spec's names, has it signed
 * by the Vault issuer over HTTP (`<mount>/sign/<role>`, VAULT_API.md 4.11), writes the
 * `kubernetes.io/tls` Secret (tls.crt = leaf + intermediates, tls.key = PKCS#8, ca.crt = root) and
 * then the status: Ready=True, revision + 1, notBefore, notAfter, renewalTime, Issuing removed.
 * A failure leaves Issuing as it was, sets Ready=False (reason Failed, the error in the message)
 * and is retried with exponential backoff. Keys never reach a status, an error or a log line.
 *
 * It reads and writes the emulator's store directly (as a controller in the cluster would through
 * its informers), so Kubernetes faults injected for certflow's requests do not touch it.
 */

export interface CertManagerControllerOptions {
  readonly kubernetes: Pick<KubernetesEmulatorHandle, 'store'> & Partial<Pick<KubernetesEmulatorHandle, 'secretWriteFault'>>;
  /** The Vault Issuer this controller signs with. */
  readonly vault: VaultIssuerConfig;
  /**
   * Only Certificates whose spec.issuerRef names this issuer (kind defaults to Issuer).
   * @default every Certificate
   */
  readonly issuerRef?: { readonly name: string; readonly kind?: string };
  /** How often every Certificate is looked at again (backoff expiry, renewal times); writes are seen at once. @default 50 */
  readonly pollMs?: number;
  /** Backoff after a failed issuance: doubles from `initialMs` up to `maxMs`. @default { initialMs: 200, maxMs: 5000 } */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Condition times and the renewal check. @default () => new Date() */
  readonly clock?: () => Date;
  /** @default silent */
  readonly log?: Log;
}

export interface CertManagerController {
  /** How many certificates it has issued (Secrets written) since it started. */
  issued(): number;
  /** The last issuance error of a Certificate (`namespace/name`, or a bare name), until it issues again. */
  lastError(name: string): string | undefined;
  /**
   * Stalls (true) or resumes (false) the controller, as a cert-manager whose pod is stuck: while
   * stalled it starts no issuance, and a Certificate that asks for one waits. (Fault
   * `cert-manager:stall`.)
   */
  stall(stalled: boolean): void;
  /** When each Certificate was first held back by a stall (epoch ms; one per Certificate per stall). */
  held(): readonly number[];
  /**
   * Resolves once nothing is queued or in flight: the controller has answered the world as it is
   * now (a Certificate in backoff waits for its next attempt, which this does not wait for).
   */
  settled(): Promise<void>;
  /** Stops watching and waits for issuances in flight. */
  close(): Promise<void>;
}

const SILENT: Log = { debug() {}, info() {}, warn() {}, error() {} };
const TLS_SECRET_TYPE = 'kubernetes.io/tls';

interface Backoff {
  failures: number;
  nextAttemptAt: number;
}

function keyOf(certificate: CertificateObject): string {
  return `${certificate.metadata.namespace ?? ''}/${certificate.metadata.name ?? ''}`;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function startCertManagerController(options: CertManagerControllerOptions): CertManagerController {
  const controller = new Controller(options, createVaultSigner(options.vault));
  controller.start();
  return controller;
}

class Controller implements CertManagerController {
  private readonly store: CertManagerControllerOptions['kubernetes']['store'];
  private readonly clock: () => Date;
  private readonly log: Log;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly errors = new Map<string, string>();
  private issuedCount = 0;
  private closed = false;
  /** The Certificates held back by the current stall, if one is on. */
  private stalledKeys: Set<string> | undefined;
  private readonly heldAt: number[] = [];
  private syncQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly options: CertManagerControllerOptions,
    private readonly signer: VaultSigner,
  ) {
    this.store = options.kubernetes.store;
    this.clock = options.clock ?? (() => new Date());
    this.log = options.log ?? SILENT;
    this.initialBackoffMs = options.retry?.initialMs ?? 200;
    this.maxBackoffMs = options.retry?.maxMs ?? 5000;
  }

  start(): void {
    const unsubscribers = [this.store.onChange(() => this.queueSync(), { resource: 'certificates' }), this.store.onChange(() => this.queueSync(), { resource: 'secrets' })];
    this.unsubscribe = () => unsubscribers.forEach((unsubscribe) => unsubscribe());
    this.timer = setInterval(() => this.sync(), this.options.pollMs ?? 50);
    this.timer.unref();
    this.queueSync();
  }

  issued(): number {
    return this.issuedCount;
  }

  stall(stalled: boolean): void {
    this.stalledKeys = stalled ? (this.stalledKeys ?? new Set()) : undefined;
    if (!stalled) this.queueSync();
  }

  held(): readonly number[] {
    return [...this.heldAt];
  }

  lastError(name: string): string | undefined {
    if (name.includes('/')) return this.errors.get(name);
    for (const [key, message] of this.errors) if (key.endsWith(`/${name}`)) return message;
    return undefined;
  }

  async settled(): Promise<void> {
    for (;;) {
      // Store listeners queue a sync for the next turn: let it run and start what it starts.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.syncQueued) continue;
      if (this.inFlight.size === 0) return;
      await Promise.allSettled([...this.inFlight.values()]);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Store listeners run inside the writer's call: look at the world once that write is done. */
  private queueSync(): void {
    if (this.syncQueued || this.closed) return;
    this.syncQueued = true;
    setImmediate(() => {
      this.syncQueued = false;
      this.sync();
    });
  }

  private sync(): void {
    if (this.closed) return;
    for (const certificate of this.store.list('certificates')) this.consider(certificate);
  }

  private handles(certificate: CertificateObject): boolean {
    const wanted = this.options.issuerRef;
    if (!wanted) return true;
    const ref = certificate.spec.issuerRef;
    return ref?.name === wanted.name && (ref.kind ?? 'Issuer') === (wanted.kind ?? 'Issuer');
  }

  private consider(certificate: CertificateObject): void {
    const key = keyOf(certificate);
    if (this.inFlight.has(key) || !this.handles(certificate)) return;
    const backoff = this.backoff.get(key);
    if (backoff && performance.now() < backoff.nextAttemptAt) return;
    const secret = this.store.get('secrets', { namespace: certificate.metadata.namespace, name: certificate.spec.secretName });
    const trigger = issuanceTrigger({ certificate, secret, now: this.clock() });
    if (!trigger) return;
    if (this.stalledKeys) {
      if (!this.stalledKeys.has(key)) this.heldAt.push(Date.now());
      this.stalledKeys.add(key);
      return;
    }
    const run = this.issue(certificate, trigger).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, run);
  }

  /** Writes the Certificate's status unless it was deleted (or replaced) meanwhile; returns whether it did. */
  private writeStatus(certificate: CertificateObject, change: (current: CertificateObject) => void): boolean {
    const { namespace, name, uid } = certificate.metadata;
    const current = this.store.get('certificates', { namespace, name: name ?? '' });
    if (!current || current.metadata.uid !== uid) return false;
    this.store.mutate('certificates', { namespace, name: name ?? '' }, change);
    return true;
  }

  private async issue(certificate: CertificateObject, trigger: Trigger): Promise<void> {
    const key = keyOf(certificate);
    try {
      if (!isIssuing(certificate)) {
        // The trigger controller's half: record why issuance starts, as cert-manager does.
        this.writeStatus(certificate, (current) => setCondition(current, { type: ConditionTypes.Issuing, status: 'True', ...trigger }, this.clock()));
      }
      const dnsNames = certificate.spec.dnsNames ?? [];
      const commonName = certificate.spec.commonName ?? dnsNames[0];
      if (!commonName) throw new Error('the Certificate has neither spec.commonName nor spec.dnsNames');
      const request = await createKeyAndRequest({ key: keySpecOf(certificate.spec.privateKey), commonName, dnsNames });
      const bundle = await this.signer.sign({ csrPem: request.csrPem, commonName, dnsNames, ...(certificate.spec.duration ? { ttl: certificate.spec.duration } : {}) });
      if (this.closed) return;
      const current = this.store.get('certificates', { namespace: certificate.metadata.namespace, name: certificate.metadata.name ?? '' });
      if (!current || current.metadata.uid !== certificate.metadata.uid) return;
      this.writeSecret(current, bundle, request.privateKeyPem, commonName);
      const leaf = certificatesOf(bundle.leafPem)[0]!;
      let revision = 0;
      this.writeStatus(certificate, (latest) => {
        const status = (latest.status ??= {});
        revision = (status.revision ?? 0) + 1;
        removeCondition(latest, ConditionTypes.Issuing);
        setCondition(latest, { type: ConditionTypes.Ready, status: 'True', reason: CertificateReasons.Ready, message: 'Certificate is up to date and has not expired' }, this.clock());
        status.revision = revision;
        status.notBefore = kubeTime(leaf.notBefore);
        status.notAfter = kubeTime(leaf.notAfter);
        status.renewalTime = kubeTime(renewalTime(leaf.notBefore, leaf.notAfter, latest.spec.renewBefore));
        delete status.lastFailureTime;
        delete status.failedIssuanceAttempts;
      });
      this.issuedCount += 1;
      this.errors.delete(key);
      this.backoff.delete(key);
      this.log.info('certificate issued', { certificate: key, reason: trigger.reason, serial: leaf.serial, revision });
    } catch (error) {
      this.fail(certificate, error);
    }
  }

  private fail(certificate: CertificateObject, error: unknown): void {
    const key = keyOf(certificate);
    const failures = (this.backoff.get(key)?.failures ?? 0) + 1;
    const delayMs = Math.min(this.initialBackoffMs * 2 ** (failures - 1), this.maxBackoffMs);
    this.backoff.set(key, { failures, nextAttemptAt: performance.now() + delayMs });
    // Messages come from node-vault's error strings and our own checks: never key material.
    const message = `The certificate request has failed to complete and will be retried in ${delayMs}ms: ${errorMessage(error)}`;
    this.errors.set(key, errorMessage(error));
    this.log.warn('certificate issuance failed', { certificate: key, attempt: failures, error: errorMessage(error) });
    if (this.closed) return;
    try {
      this.writeStatus(certificate, (current) => {
        setCondition(current, { type: ConditionTypes.Ready, status: 'False', reason: CertificateReasons.Failed, message }, this.clock());
        const status = current.status!;
        status.lastFailureTime = kubeTime(this.clock());
        status.failedIssuanceAttempts = failures;
      });
    } catch (statusError) {
      this.log.error('could not record the failed issuance', { certificate: key, error: errorMessage(statusError) });
    }
  }

  private writeSecret(certificate: CertificateObject, bundle: TlsBundle, privateKeyPem: string, commonName: string): void {
    const namespace = certificate.metadata.namespace;
    const name = certificate.spec.secretName;
    const template = (certificate.spec.secretTemplate ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
    const issuerRef = certificate.spec.issuerRef;
    const annotations: Record<string, string> = {
      ...(template.annotations ?? {}),
      'cert-manager.io/certificate-name': certificate.metadata.name ?? '',
      'cert-manager.io/issuer-name': issuerRef.name,
      'cert-manager.io/issuer-kind': issuerRef.kind ?? 'Issuer',
      'cert-manager.io/issuer-group': issuerRef.group ?? 'cert-manager.io',
      'cert-manager.io/common-name': commonName,
      'cert-manager.io/alt-names': (certificate.spec.dnsNames ?? []).join(','),
    };
    const data = { 'tls.crt': base64(bundle.tlsCrt), 'tls.key': base64(privateKeyPem), 'ca.crt': base64(bundle.caCrt) };
    const existing = this.store.get('secrets', { namespace, name });
    // The real cert-manager writes through the API server, so an injected Secret-write fault meets
    // it too: the issuance fails and is retried with backoff, and the Secret stays as it was.
    const refused = this.options.kubernetes.secretWriteFault?.(existing ? 'update' : 'create', namespace ?? '', name);
    if (refused) throw refused;
    if (existing && existing.type === TLS_SECRET_TYPE) {
      this.store.mutate('secrets', { namespace, name }, (secret: SecretObject) => {
        secret.data = { ...(secret.data ?? {}), ...data };
        secret.metadata.labels = { ...(secret.metadata.labels ?? {}), ...(template.labels ?? {}) };
        secret.metadata.annotations = { ...(secret.metadata.annotations ?? {}), ...annotations };
      });
      return;
    }
    // A Secret's type is immutable: one of another type is replaced, as cert-manager would have to.
    if (existing) this.store.delete('secrets', { namespace, name });
    this.store.create('secrets', {
      metadata: { name, namespace, ...(template.labels ? { labels: template.labels } : {}), annotations },
      type: TLS_SECRET_TYPE,
      data,
    });
  }
}
