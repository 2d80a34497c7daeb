import { stringify } from 'yaml';

/**
 * A kubeconfig for the emulator, for kubectl and for `KubeConfig.loadFromString`: the emulator's
 * bearer token, and for HTTPS the serving certificate as the cluster's certificate authority (so
 * nothing skips verification). Over plain HTTP kubectl leaves the token out of its requests
 * (clientcmd applies user credentials only to TLS transports): use HTTPS for kubectl.
 */

export interface KubeconfigOptions {
  readonly server: string;
  readonly token: string;
  /** The contexts' default namespace. @default 'default' */
  readonly namespace?: string;
  /** Cluster, user and context name. @default 'certflow-sandbox' */
  readonly name?: string;
  /**
   * One cluster, user and context per name, all reaching this emulator (the sandbox serves every
   * declared cluster from one emulator); the first is the current context. @default [name]
   */
  readonly names?: readonly string[];
  /** PEM of the certificate authority to trust (HTTPS only). */
  readonly caCertificate?: string;
}

export function renderKubeconfig(options: KubeconfigOptions): string {
  const names = options.names?.length ? [...options.names] : [options.name ?? 'certflow-sandbox'];
  const cluster = {
    server: options.server,
    ...(options.caCertificate === undefined ? {} : { 'certificate-authority-data': Buffer.from(options.caCertificate).toString('base64') }),
  };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: names.map((name) => ({ name, cluster })),
    users: names.map((name) => ({ name, user: { token: options.token } })),
    contexts: names.map((name) => ({ name, context: { cluster: name, user: name, namespace: options.namespace ?? 'default' } })),
    'current-context': names[0],
    preferences: {},
  }, { aliasDuplicateObjects: false });
}
