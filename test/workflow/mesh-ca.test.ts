import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { K8sNames } from '../../functions/contracts/targets';
import type { LocalCloud } from '../../sandbox/compose/local-cloud';
import type { ReadyFleet } from '../../sandbox/compose/fleet';
import { startFaultFleet } from '../support/fault-matrix';
import { seedIstiod } from '../support/local-cloud-fixture';
import { sandboxVaultClient } from '../../sandbox/compose/sandbox-vault-client';

/**
 * The constrained mesh CA (issue 11, item 2), judged by OpenSSL alone: the Istio plug-in CA that a
 * rotation writes at the declared location carries critical name constraints (the mesh's DNS
 * domains and its SPIFFE trust domain), path length 0, and ends no later than the intermediate;
 * `openssl verify` accepts it under the root, accepts a mesh workload's leaf, and refuses the
 * forged www.bank.example leaf the attacker run made with an unconstrained one.
 */
jest.setTimeout(120_000);
const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

function openssl(args: string[], cwd: string): { status: number | null; out: string } {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

(haveOpenssl ? describe : describe.skip)('the Istio plug-in CA a rotation issues', () => {
  let cloud: LocalCloud;
  let fleet: ReadyFleet;
  let dir: string;
  beforeAll(async () => {
    ({ cloud, fleet } = await startFaultFleet());
    const store = cloud.sandbox.kubernetes.store;
    seedIstiod(store);
    store.create('configmaps', { metadata: { name: fleet.seed.trustBundle.name, namespace: 'istio-system' }, data: { [fleet.seed.trustBundle.key]: fleet.pki.rootCertificate } } as never);
    // The default mesh location, opted in by its label: the only place a mesh CA may be written.
    store.create('secrets', { metadata: { name: 'cacerts', namespace: 'istio-system', labels: { [K8sNames.ManagedLabel]: 'true' } }, type: 'Opaque', data: {} } as never);

    const execution = await cloud.runner.run(cloud.runner.find('RotationWorkflow'), { trigger: 'cli', forceRenewal: true });
    if (execution.status !== 'SUCCEEDED') {
      const rolledBack = cloud.sandbox.eventBridge.events().find((event) => event.detail.runId === execution.name && event.detailType === 'Rotation Rolled Back');
      throw new Error(`rotation ${execution.status}: ${JSON.stringify(rolledBack?.detail).slice(0, 3000)}`);
    }

    dir = mkdtempSync(join(tmpdir(), 'certflow-mesh-'));
    const secret = store.get('secrets', { namespace: 'istio-system', name: 'cacerts' })!;
    const file = (key: string) => Buffer.from(secret.data![key]!, 'base64');
    writeFileSync(join(dir, 'ca-cert.pem'), file('ca-cert.pem'));
    writeFileSync(join(dir, 'ca-key.pem'), file('ca-key.pem'), { mode: 0o600 });
    writeFileSync(join(dir, 'root.pem'), fleet.pki.rootCertificate);
  });
  afterAll(async () => cloud?.sandbox.close());

  it('carries critical name constraints for the mesh’s DNS domains and SPIFFE trust domain, and path length 0', () => {
    const text = openssl(['x509', '-in', 'ca-cert.pem', '-noout', '-text'], dir).out;

    expect(text).toMatch(/X509v3 Name Constraints: critical\s+Permitted:\s+DNS:econ-graph\.svc\s+DNS:econ-graph\.svc\.cluster\.local\s+URI:cluster\.local/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  });

  it('ends no later than the active intermediate', async () => {
    const vault = sandboxVaultClient(cloud.sandbox, { token: fleet.pki.rootToken });
    const intermediate = new X509Certificate(((await vault.read('pki_int/issuer/default')).data as { certificate: string }).certificate);
    const endDate = openssl(['x509', '-in', 'ca-cert.pem', '-noout', '-enddate'], dir).out.replace('notAfter=', '').trim();

    expect(new Date(endDate).getTime()).toBeLessThanOrEqual(new Date(intermediate.validTo).getTime());
    expect(new Date(endDate).getTime()).toBeGreaterThan(Date.now());
  });

  it('verifies under the root with openssl verify', () => {
    const result = openssl(['verify', '-CAfile', 'root.pem', 'ca-cert.pem'], dir);

    expect(result).toEqual({ status: 0, out: expect.stringContaining('ca-cert.pem: OK') });
  });

  it.each([
    ['refuses', 'a forged leaf for www.bank.example', 'subjectAltName=DNS:www.bank.example', false, 'bank'],
    ['refuses', 'a leaf for keycloak outside the service domain (keycloak.econgraph.example)', 'subjectAltName=DNS:keycloak.econgraph.example', false, 'outside'],
    ['refuses', 'a SPIFFE identity of another trust domain', 'subjectAltName=URI:spiffe://evil.example/ns/econ-graph/sa/backend', false, 'spiffe'],
    ['accepts', 'a mesh workload leaf (SPIFFE identity and service name)', 'subjectAltName=URI:spiffe://cluster.local/ns/econ-graph/sa/backend,DNS:backend.econ-graph.svc', true, 'mesh'],
  ])('%s %s signed by the mesh CA', (_verb, _name, san, valid, tag) => {
    expect(openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${tag}.key`, '-out', `${tag}.csr`, '-subj', '/CN=leaf', '-addext', san], dir).status).toBe(0);
    expect(openssl(['x509', '-req', '-in', `${tag}.csr`, '-CA', 'ca-cert.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-copy_extensions', 'copy', '-out', `${tag}.pem`], dir).status).toBe(0);

    const result = openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'ca-cert.pem', `${tag}.pem`], dir);

    if (valid) expect(result.status).toBe(0);
    else expect(result).toEqual({ status: 2, out: expect.stringContaining('permitted subtree violation') });
  });
});
