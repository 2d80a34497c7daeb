/**
 * A kubeconfig for the emulator, for kubectl and for `KubeConfig.loadFromString`: the emulator's
 * bearer token, and for HTTPS the serving certificate as the cluster's certificate authority (so
 * nothing skips verification). Over plain HTTP kubectl leaves the token out of its requests
 * (clientcmd applies user credentials only to TLS transports): use HTTPS for kubectl. Strings are
 * written as JSON strings, which YAML reads as double-quoted scalars.
 */

export interface KubeconfigOptions {
  readonly server: string;
  readonly token: string;
  /** The context's default namespace. @default 'default' */
  readonly namespace?: string;
  /** Cluster, user and context name. @default 'certflow-sandbox' */
  readonly name?: string;
  /** PEM of the certificate authority to trust (HTTPS only). */
  readonly caCertificate?: string;
}

export function renderKubeconfig(options: KubeconfigOptions): string {
  const name = JSON.stringify(options.name ?? 'certflow-sandbox');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${JSON.stringify(options.server)}`,
    ...(options.caCertificate === undefined ? [] : [`    certificate-authority-data: ${Buffer.from(options.caCertificate).toString('base64')}`]),
    'users:',
    `- name: ${name}`,
    '  user:',
    `    token: ${JSON.stringify(options.token)}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}`,
    `    namespace: ${JSON.stringify(options.namespace ?? 'default')}`,
    `current-context: ${name}`,
    'preferences: {}',
    '',
  ].join('\n');
}
