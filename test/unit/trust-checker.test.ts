import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../functions/contracts/errors';
import { children, formatSerial, nameKey, readCrl, readOid, readSingle, readTime, readTlv, DerError } from '../../functions/domain/der';
import { checkTrust, TrustCheckOrder, TrustReasons, type TrustInput, type TrustReason } from '../../functions/domain/trust-checker';
import { certificatesFromPem } from '../../functions/domain/x509-facts';
import {
  Eku,
  KeyUsage,
  makeCrl,
  makeIntermediate,
  makeKeys,
  makeLeaf,
  makeRoot,
  pemOf,
  privateKeyPem,
  type Issued,
  type KeyPair,
} from '../support/pki-fixtures';

/** The fixed clock of this file: every validity window is placed around it. */
const NOW = new Date('2030-06-01T12:00:00Z');
const DAY = 86_400_000;
const days = (n: number) => new Date(NOW.getTime() + n * DAY);
const seconds = (n: number) => new Date(NOW.getTime() + n * 1000);
const HOST = 'api.payments.svc';

interface World {
  keys: Record<'root' | 'g1' | 'g2' | 'leaf' | 'leaf2' | 'foreignRoot' | 'foreignInt' | 'impostor' | 'rsaRoot' | 'rsaInt' | 'rsaLeaf', KeyPair>;
  root: Issued;
  /** The intermediate being retired. */
  g1: Issued;
  /** The new intermediate. */
  g2: Issued;
  /** A leaf of G2: the default served certificate. */
  leaf: Issued;
  leafKeyPem: string;
  /** A leaf of the old intermediate, still in service during the overlap. */
  leafOfG1: Issued;
  foreignRoot: Issued;
  foreignInt: Issued;
  foreignLeaf: Issued;
  rsa: { root: Issued; int: Issued; leaf: Issued; keyPem: string };
}

let w: World;

/** Material shared by the table: keys are generated once per file (RSA costs ~100 ms each). */
beforeAll(async () => {
  const ec = ['root', 'g1', 'g2', 'leaf', 'leaf2', 'foreignRoot', 'foreignInt', 'impostor'] as const;
  const rsa = ['rsaRoot', 'rsaInt', 'rsaLeaf'] as const;
  const pairs = await Promise.all([...ec.map(async (name) => [name, await makeKeys('ec')] as const), ...rsa.map(async (name) => [name, await makeKeys('rsa')] as const)]);
  const keys = Object.fromEntries(pairs) as World['keys'];
  const { root, g1, g2, leaf, leaf2, foreignRoot, foreignInt, rsaRoot, rsaInt, rsaLeaf } = keys;

  const rootCert = await makeRoot({ name: 'CN=certflow Root, O=certflow', key: root, notBefore: days(-365), notAfter: days(3285) });
  const g1Cert = await makeIntermediate({ name: 'CN=certflow Intermediate G1, O=certflow', key: g1, issuer: rootCert, notBefore: days(-1800), notAfter: days(25) });
  const g2Cert = await makeIntermediate({ name: 'CN=certflow Intermediate G2, O=certflow', key: g2, issuer: rootCert, notBefore: days(-1), notAfter: days(1825) });
  const leafCert = await leafOf(g2Cert, leaf);
  const leafOfG1 = await leafOf(g1Cert, leaf2, { notAfter: days(20) });

  const foreignRootCert = await makeRoot({ name: 'CN=Other Root, O=elsewhere', key: foreignRoot, notBefore: days(-365), notAfter: days(3285) });
  const foreignIntCert = await makeIntermediate({ name: 'CN=Other Intermediate, O=elsewhere', key: foreignInt, issuer: foreignRootCert, notBefore: days(-30), notAfter: days(700) });
  const foreignLeaf = await leafOf(foreignIntCert, leaf2);

  const rsaRootCert = await makeRoot({ name: 'CN=certflow RSA Root', key: rsaRoot, notBefore: days(-365), notAfter: days(3285) });
  const rsaIntCert = await makeIntermediate({ name: 'CN=certflow RSA Intermediate', key: rsaInt, issuer: rsaRootCert, notBefore: days(-30), notAfter: days(1800) });
  const rsaLeafCert = await leafOf(rsaIntCert, rsaLeaf);

  w = {
    keys,
    root: rootCert,
    g1: g1Cert,
    g2: g2Cert,
    leaf: leafCert,
    leafKeyPem: await privateKeyPem(leaf),
    leafOfG1,
    foreignRoot: foreignRootCert,
    foreignInt: foreignIntCert,
    foreignLeaf,
    rsa: { root: rsaRootCert, int: rsaIntCert, leaf: rsaLeafCert, keyPem: await privateKeyPem(rsaLeaf) },
  };
});

/** A service leaf like Vault's role issues: 30 days, both TLS EKUs, SANs for the service. */
function leafOf(issuer: Issued, key: KeyPair, overrides: Partial<Parameters<typeof makeLeaf>[0]> = {}): Promise<Issued> {
  return makeLeaf({
    issuer,
    key,
    commonName: HOST,
    dnsNames: [HOST, `${HOST}.cluster.local`, '*.mesh.internal'],
    ipAddresses: ['10.0.0.7'],
    notBefore: days(-1),
    notAfter: days(29),
    ...overrides,
  });
}

/** The healthy default: the G2 leaf and G2 served, the root trusted, names and key right. */
function healthy(overrides: Partial<TrustInput> = {}): TrustInput {
  return { servedChain: pemOf(w.leaf, w.g2), trustBundle: w.root.pem, hostName: HOST, now: NOW, privateKeyPem: w.leafKeyPem, purpose: 'server', ...overrides };
}

type Case = [name: string, build: () => Promise<TrustInput> | TrustInput, reason: TrustReason, detail?: RegExp];

const cases: Case[] = [
  // Valid, several ways
  ['an ECDSA P-256 leaf served with its intermediate is valid against a root-only bundle', () => healthy(), 'Valid', /is trusted for server use/],
  [
    'an RSA 2048 leaf served with its intermediate is valid against a root-only bundle',
    () => healthy({ servedChain: pemOf(w.rsa.leaf, w.rsa.int), trustBundle: w.rsa.root.pem, privateKeyPem: w.rsa.keyPem }),
    'Valid',
  ],
  [
    'a bundle holding the root and both the old and the new intermediate validates a leaf of the new one',
    () => healthy({ trustBundle: pemOf(w.root, w.g1, w.g2) }),
    'Valid',
  ],
  [
    'a leaf served alone is valid when the bundle trusts both intermediates directly',
    () => healthy({ servedChain: w.leaf.pem, trustBundle: pemOf(w.g1, w.g2) }),
    'Valid',
  ],
  [
    'a leaf of the old intermediate stays valid during the overlap',
    () => healthy({ servedChain: pemOf(w.leafOfG1, w.g1), privateKeyPem: undefined }),
    'Valid',
  ],
  ['a served chain that includes the root, out of order, is valid', () => healthy({ servedChain: pemOf(w.leaf, w.root, w.g2) }), 'Valid'],
  ['a bundle holding several roots finds the one that anchors the chain', () => healthy({ trustBundle: pemOf(w.foreignRoot, w.rsa.root, w.root) }), 'Valid'],
  ['a leaf is still valid at the very second of its notAfter', async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { notAfter: NOW }), w.g2) }), 'Valid'],
  ['a leaf is valid from the very second of its notBefore', async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { notBefore: NOW }), w.g2) }), 'Valid'],
  ['a wildcard SAN covers one label below it', () => healthy({ hostName: 'ledger.mesh.internal' }), 'Valid'],
  ['an IP SAN covers the address the peer dials', () => healthy({ hostName: '10.0.0.7' }), 'Valid'],
  ['a leaf with both EKUs is valid for client authentication', () => healthy({ purpose: 'client', hostName: undefined }), 'Valid'],
  [
    'a leaf without key usage extensions is unrestricted (RFC 5280)',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { keyUsage: null, extKeyUsage: null }), w.g2) }),
    'Valid',
  ],
  [
    'an intermediate with path length 0, as Vault signs it with max_path_length 0, may sign leaves',
    async () => {
      const int = await makeIntermediate({ name: 'CN=Leaf-only Intermediate', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), pathLength: 0 });
      return healthy({ servedChain: pemOf(await leafOf(int, w.keys.leaf), int) });
    },
    'Valid',
  ],
  [
    'a CRL of the issuer that lists other serials leaves the leaf valid',
    async () => healthy({ crls: [(await makeCrl({ issuer: w.g2, revoked: ['01:02:03', w.leafOfG1.serial], thisUpdate: days(-1), nextUpdate: days(2) })).pem] }),
    'Valid',
    /not on 1 CRL/,
  ],
  [
    'a CRL listing the leaf but signed by another key is ignored',
    async () => healthy({ crls: [(await makeCrl({ issuer: w.g2, revoked: [w.leaf.serial], thisUpdate: days(-1), nextUpdate: days(2), signingKey: w.keys.impostor })).pem] }),
    'Valid',
  ],
  [
    'a CRL of another issuer listing the same serial is ignored',
    async () => healthy({ crls: [(await makeCrl({ issuer: w.g1, revoked: [w.leaf.serial], thisUpdate: days(-1), nextUpdate: days(2) })).pem] }),
    'Valid',
  ],
  [
    'when the shortest path fails but a longer one passes, the chain is valid',
    async () => {
      // G2 re-issued earlier with the same name and key, now expired, and trusted directly by the bundle.
      const staleG2 = await makeIntermediate({ name: w.g2.name, key: w.keys.g2, issuer: w.root, notBefore: days(-400), notAfter: days(-10) });
      return healthy({ trustBundle: pemOf(staleG2, w.root) });
    },
    'Valid',
  ],

  // Expired and NotYetValid
  ['a leaf one second past its notAfter is expired', async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { notBefore: days(-30), notAfter: seconds(-1) }), w.g2) }), 'Expired', /the leaf CN=api.payments.svc expired at 2030-06-01T11:59:59.000Z/],
  [
    'an expired intermediate makes a fresh leaf expired too',
    async () => {
      const old = await makeIntermediate({ name: 'CN=certflow Intermediate G0', key: w.keys.g1, issuer: w.root, notBefore: days(-2000), notAfter: days(-1) });
      return healthy({ servedChain: pemOf(await leafOf(old, w.keys.leaf), old) });
    },
    'Expired',
    /the intermediate CN=certflow Intermediate G0 expired/,
  ],
  [
    'an expired root expires the whole chain',
    async () => {
      const oldRoot = await makeRoot({ name: 'CN=Expired Root', key: w.keys.foreignRoot, notBefore: days(-4000), notAfter: days(-1) });
      const int = await makeIntermediate({ name: 'CN=Under Expired Root', key: w.keys.foreignInt, issuer: oldRoot, notBefore: days(-30), notAfter: days(30) });
      return healthy({ servedChain: pemOf(await leafOf(int, w.keys.leaf), int), trustBundle: oldRoot.pem });
    },
    'Expired',
    /trust anchor CN=Expired Root/,
  ],
  [
    'a leaf whose notBefore is one second ahead is not yet valid',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { notBefore: seconds(1) }), w.g2) }),
    'NotYetValid',
    /not valid before 2030-06-01T12:00:01.000Z/,
  ],

  // UnknownIssuer
  ['a chain from a foreign PKI is not trusted', () => healthy({ servedChain: pemOf(w.foreignLeaf, w.foreignInt), privateKeyPem: undefined }), 'UnknownIssuer', /ends at CN=Other Intermediate/],
  [
    'a served chain ending at a self-signed root the bundle does not hold is not trusted',
    () => healthy({ servedChain: pemOf(w.foreignLeaf, w.foreignInt, w.foreignRoot), privateKeyPem: undefined }),
    'UnknownIssuer',
    /self-signed CN=Other Root/,
  ],
  ['an empty trust bundle trusts nothing', () => healthy({ trustBundle: '' }), 'UnknownIssuer', /holds no certificate/],
  [
    'an intermediate carrying the trusted root’s name but signed by another key is not trusted',
    async () => {
      const fakeRoot = await makeRoot({ name: w.root.name, key: w.keys.impostor, notBefore: days(-10), notAfter: days(100) });
      const fakeInt = await makeIntermediate({ name: w.g2.name, key: w.keys.foreignInt, issuer: fakeRoot, notBefore: days(-10), notAfter: days(100) });
      return healthy({ servedChain: pemOf(await leafOf(fakeInt, w.keys.leaf), fakeInt) });
    },
    'UnknownIssuer',
    /its key did not sign it/,
  ],
  [
    'a leaf that chains but was not signed by the expected issuer is reported',
    () => healthy({ servedChain: pemOf(w.leafOfG1, w.g1), privateKeyPem: undefined, expectedIssuerPem: w.g2.pem }),
    'UnknownIssuer',
    /not by the expected issuer CN=certflow Intermediate G2/,
  ],

  // MissingIntermediate
  ['a leaf served without its intermediate cannot be completed against a root-only bundle', () => healthy({ servedChain: w.leaf.pem }), 'MissingIntermediate', /must send the intermediate/],
  ['a leaf of the new intermediate against a bundle that trusts only the old one', () => healthy({ servedChain: w.leaf.pem, trustBundle: w.g1.pem }), 'MissingIntermediate'],
  [
    'a leaf of a re-keyed intermediate served with the old certificate of that name',
    async () => {
      const rekeyed = await makeIntermediate({ name: w.g2.name, key: w.keys.impostor, issuer: w.root, notBefore: days(-1), notAfter: days(1000) });
      return healthy({ servedChain: pemOf(await leafOf(rekeyed, w.keys.leaf), w.g2) });
    },
    'MissingIntermediate',
    /not the one whose key signed the leaf/,
  ],

  // NameMismatch
  ['a host name the SANs do not cover is a mismatch', () => healthy({ hostName: 'billing.svc' }), 'NameMismatch', /do not cover billing.svc/],
  ['the common name alone does not match: only SANs count, as in Go', async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { dnsNames: ['other.svc'], ipAddresses: [] }), w.g2) }), 'NameMismatch'],
  ['a wildcard does not cover two labels', () => healthy({ hostName: 'a.b.mesh.internal' }), 'NameMismatch'],
  ['an IP address that is not in the SANs is a mismatch', () => healthy({ hostName: '10.0.0.8' }), 'NameMismatch'],

  // WrongKeyUsage
  [
    'an intermediate without CA:true cannot sign',
    async () => {
      const notCa = await makeIntermediate({ name: 'CN=Not A CA', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), ca: false });
      return healthy({ servedChain: pemOf(await leafOf(notCa, w.keys.leaf), notCa) });
    },
    'WrongKeyUsage',
    /is not a CA/,
  ],
  [
    'an intermediate whose key usage lacks keyCertSign cannot sign',
    async () => {
      const crlOnly = await makeIntermediate({ name: 'CN=CRL Only', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), keyUsage: KeyUsage.cRLSign });
      return healthy({ servedChain: pemOf(await leafOf(crlOnly, w.keys.leaf), crlOnly) });
    },
    'WrongKeyUsage',
    /lacks keyCertSign/,
  ],
  [
    'an intermediate below a root with path length 0 breaks the constraint',
    async () => {
      const strictRoot = await makeRoot({ name: 'CN=Strict Root', key: w.keys.foreignRoot, notBefore: days(-10), notAfter: days(1000), pathLength: 0 });
      const int = await makeIntermediate({ name: 'CN=Under Strict Root', key: w.keys.g1, issuer: strictRoot, notBefore: days(-1), notAfter: days(100) });
      return healthy({ servedChain: pemOf(await leafOf(int, w.keys.leaf), int), trustBundle: strictRoot.pem });
    },
    'WrongKeyUsage',
    /the trust anchor CN=Strict Root allows 0 intermediate\(s\) below it, but the chain has 1/,
  ],
  [
    'a server-only leaf presented for client authentication is refused',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { extKeyUsage: [Eku.serverAuth] }), w.g2), purpose: 'client' }),
    'WrongKeyUsage',
    /does not allow client authentication/,
  ],
  [
    'a leaf without digitalSignature cannot do TLS',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { keyUsage: KeyUsage.keyEncipherment }), w.g2) }),
    'WrongKeyUsage',
    /lacks digitalSignature/,
  ],
  [
    'an intermediate restricted to code signing cannot vouch for a server',
    async () => {
      const codeOnly = await makeIntermediate({ name: 'CN=Code Signing CA', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), extKeyUsage: [Eku.codeSigning] });
      return healthy({ servedChain: pemOf(await leafOf(codeOnly, w.keys.leaf), codeOnly) });
    },
    'WrongKeyUsage',
    /excludes server authentication/,
  ],

  // KeyMismatch
  ['a private key from another issuance does not match the leaf', async () => healthy({ privateKeyPem: await privateKeyPem(w.keys.leaf2) }), 'KeyMismatch', /different issuances/],
  ['an RSA key does not match an ECDSA leaf', () => healthy({ privateKeyPem: w.rsa.keyPem }), 'KeyMismatch', /\(rsa\) does not belong to the leaf's public key \(ec\)/],

  // Revoked
  [
    'a leaf listed on its issuer’s CRL is revoked',
    async () => healthy({ crls: [(await makeCrl({ issuer: w.g2, revoked: [w.leaf.serial], thisUpdate: days(-1), nextUpdate: days(2) })).pem] }),
    'Revoked',
    /the leaf CN=api.payments.svc \(serial [0-9a-f:]+\) is listed on CRL 1 of CN=certflow Intermediate G2/,
  ],
  [
    'a leaf listed on a CRL given as base64 DER is revoked',
    async () => healthy({ crls: [(await makeCrl({ issuer: w.g2, revoked: [w.leaf.serial], thisUpdate: days(-1), nextUpdate: days(2) })).der.toString('base64')] }),
    'Revoked',
  ],
  [
    'a leaf of the old intermediate is found on the old issuer’s CRL, not the default one (P13)',
    async () =>
      healthy({
        servedChain: pemOf(w.leafOfG1, w.g1),
        privateKeyPem: undefined,
        crls: [
          (await makeCrl({ issuer: w.g2, revoked: [], thisUpdate: days(-1), nextUpdate: days(2) })).pem,
          (await makeCrl({ issuer: w.g1, revoked: [w.leafOfG1.serial], thisUpdate: days(-1), nextUpdate: days(2) })).pem,
        ],
      }),
    'Revoked',
    /CRL 2 of CN=certflow Intermediate G1/,
  ],
  [
    'an intermediate listed on the root’s CRL revokes every leaf below it',
    async () => healthy({ crls: [(await makeCrl({ issuer: w.root, revoked: [w.g2.serial], thisUpdate: days(-1), nextUpdate: days(2) })).pem] }),
    'Revoked',
    /the intermediate CN=certflow Intermediate G2/,
  ],

  // The order: the first failing check wins
  [
    'a missing intermediate is reported before an expired leaf, because the chain is built first',
    async () => healthy({ servedChain: (await leafOf(w.g2, w.keys.leaf, { notBefore: days(-30), notAfter: days(-1) })).pem }),
    'MissingIntermediate',
  ],
  [
    'an expired leaf with a wrong host name is reported as expired, because validity comes before names',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { notBefore: days(-30), notAfter: days(-1) }), w.g2), hostName: 'billing.svc' }),
    'Expired',
  ],
  [
    'a wrong key usage is reported before a name mismatch',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { extKeyUsage: [Eku.clientAuth] }), w.g2), hostName: 'billing.svc' }),
    'WrongKeyUsage',
  ],
  ['a name mismatch is reported before a key mismatch', () => healthy({ hostName: 'billing.svc', privateKeyPem: w.rsa.keyPem }), 'NameMismatch'],
  [
    'a key mismatch is reported before revocation, which is checked last',
    async () => healthy({ privateKeyPem: w.rsa.keyPem, crls: [(await makeCrl({ issuer: w.g2, revoked: [w.leaf.serial], thisUpdate: days(-1), nextUpdate: days(2) })).pem] }),
    'KeyMismatch',
  ],
  [
    'an unexpected issuer is reported before revocation',
    async () =>
      healthy({
        servedChain: pemOf(w.leafOfG1, w.g1),
        privateKeyPem: undefined,
        expectedIssuerPem: w.g2.pem,
        crls: [(await makeCrl({ issuer: w.g1, revoked: [w.leafOfG1.serial], thisUpdate: days(-1), nextUpdate: days(2) })).pem],
      }),
    'UnknownIssuer',
  ],
];

describe('checking a served chain against a trust bundle', () => {
  // A rest parameter: rows without a detail pattern would otherwise make jest read the 4th
  // parameter as a `done` callback and wait for it.
  it.each<Case>(cases)('%s', async (...[, build, reason, detail]: Case) => {
    const verdict = checkTrust(await build());
    expect({ reason: verdict.reason, valid: verdict.valid }).toEqual({ reason, valid: reason === 'Valid' });
    if (detail) expect(verdict.detail).toMatch(detail);
  });

  it('covers every reason at least once in the table', () => {
    const covered = new Set(cases.map(([, , reason]) => reason));
    expect([...covered].sort()).toEqual(Object.values(TrustReasons).sort());
  });

  it('documents the check order it runs', () => {
    expect(TrustCheckOrder).toEqual(['chain', 'validity', 'keyUsage', 'hostName', 'keyMatch', 'expectedIssuer', 'revocation']);
  });

  it('describes the leaf with its serial written the way Vault writes it', () => {
    const verdict = checkTrust(healthy());
    const node = new X509Certificate(w.leaf.pem);
    expect(verdict.leaf).toEqual({
      serial: w.leaf.serial,
      subject: 'CN=api.payments.svc',
      notAfter: days(29).toISOString(),
      fingerprint256: node.fingerprint256,
    });
    expect(verdict.leaf?.serial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
  });

  it('describes the leaf even when the verdict is a failure', () => {
    expect(checkTrust(healthy({ hostName: 'billing.svc' })).leaf?.serial).toBe(w.leaf.serial);
  });

  it('accepts an expected issuer that did sign the leaf', () => {
    expect(checkTrust(healthy({ expectedIssuerPem: w.g2.pem })).reason).toBe('Valid');
  });

  it('never puts the private key into a detail', () => {
    const keyBody = w.leafKeyPem.split('\n')[1] as string;
    for (const input of [healthy(), healthy({ privateKeyPem: w.rsa.keyPem })]) {
      expect(checkTrust(input).detail).not.toContain(keyBody.slice(0, 20));
    }
  });
});

describe('malformed input is a typed error, not a verdict', () => {
  it.each<[string, () => Partial<TrustInput>, RegExp]>([
    ['a served chain with no certificate', () => ({ servedChain: 'nothing here' }), /served chain holds no PEM certificate/],
    ['a served chain whose certificate block is garbage', () => ({ servedChain: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }), /served chain certificate 1 is not a valid X.509 certificate/],
    ['a trust bundle whose second certificate is cut short', () => ({ trustBundle: w.root.pem + w.g1.pem.replace(/\n[A-Za-z0-9+/=]+\n-----END/, '\n-----END') }), /trust bundle certificate 2/],
    ['a CRL that is neither PEM nor base64', () => ({ crls: ['not a crl!'] }), /CRL 1 is neither a PEM CRL nor base64 DER/],
    ['a CRL whose DER is not a CRL', () => ({ crls: [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]).toString('base64')] }), /CRL 1 is not a valid X.509 CRL/],
    ['a private key that does not parse', () => ({ privateKeyPem: '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNoYXJl\n-----END PRIVATE KEY-----' }), /^privateKeyPem is not a readable private key$/],
    ['an expected issuer with two certificates', () => ({ expectedIssuerPem: pemOf(w.g1, w.g2) }), /exactly one certificate, found 2/],
    ['a clock that is not a date', () => ({ now: new Date('nope') }), /now must be a valid Date/],
  ])('rejects %s', (_name, overrides, message) => {
    const run = () => checkTrust(healthy(overrides()));
    expect(run).toThrow(InvalidInputError);
    expect(run).toThrow(message);
  });

  it('names the input that failed in the error details, which are safe to log', () => {
    try {
      checkTrust(healthy({ privateKeyPem: 'garbage-key-material' }));
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).details).toEqual({ input: 'privateKeyPem' });
      expect((error as Error).message).not.toContain('garbage-key-material');
    }
  });
});

describe('the DER reader', () => {
  it('reads a long-form length', () => {
    const value = Buffer.alloc(200, 7);
    const tlv = readTlv(Buffer.concat([Buffer.from([0x04, 0x81, 200]), value]));
    expect([tlv.tag, tlv.value.length, tlv.end]).toEqual([0x04, 200, 203]);
  });

  it.each<[string, number[], RegExp]>([
    ['an indefinite length, which DER forbids', [0x30, 0x80, 0x00, 0x00], /indefinite length/],
    ['a length longer than the input', [0x04, 0x05, 0x01], /claims 5 bytes/],
    ['a high tag number', [0x1f, 0x81, 0x01, 0x00], /high tag number/],
    ['trailing bytes after the outer element', [0x05, 0x00, 0x00], /trailing bytes/],
  ])('refuses %s', (_name, bytes, message) => {
    expect(() => readSingle(Buffer.from(bytes))).toThrow(DerError);
    expect(() => readSingle(Buffer.from(bytes))).toThrow(message);
  });

  it('decodes an object identifier with multi-byte arcs', () => {
    // sha256WithRSAEncryption
    expect(readOid(readSingle(Buffer.from('06092a864886f70d01010b', 'hex')))).toBe('1.2.840.113549.1.1.11');
  });

  it.each<[string, number[], string]>([
    ['drops the sign byte DER adds to a serial with the high bit set', [0x00, 0xa5, 0x01], 'a5:01'],
    ['keeps a serial without a sign byte as it is', [0x3c, 0x00, 0x10], '3c:00:10'],
    ['keeps a zero serial as one byte', [0x00], '00'],
  ])('%s', (_name, bytes, expected) => {
    expect(formatSerial(Uint8Array.from(bytes))).toBe(expected);
  });

  it.each<[string, string, string]>([
    ['reads UTCTime year 49 as 2049', '170d3439313233313233353935395a', '2049-12-31T23:59:59.000Z'],
    ['reads UTCTime year 50 as 1950', '170d3530303130313030303030305a', '1950-01-01T00:00:00.000Z'],
    ['reads GeneralizedTime past 2049', '180f32303630303630313132303030305a', '2060-06-01T12:00:00.000Z'],
  ])('%s', (_name, hex, iso) => {
    expect(readTime(readSingle(Buffer.from(hex, 'hex'))).toISOString()).toBe(iso);
  });

  it('treats a PrintableString and a UTF8String of the same name as the same name', () => {
    const name = (stringTag: number) => Buffer.from([0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, stringTag, 0x02, 0x43, 0x41]);
    expect(nameKey(readSingle(name(0x13)))).toBe(nameKey(readSingle(name(0x0c))));
    expect(nameKey(readSingle(name(0x13)))).toBe('2.5.4.3=ca');
  });

  it('reads basicConstraints, key usage bits and EKUs of a certificate', () => {
    const [leaf, g2] = certificatesFromPem(pemOf(w.leaf, w.g2), 'test');
    expect(leaf).toMatchObject({ basicConstraints: { ca: false }, keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] });
    expect(g2).toMatchObject({ basicConstraints: { ca: true }, keyUsage: ['keyCertSign', 'cRLSign'], notAfter: days(1825) });
    expect(g2?.extKeyUsage).toBeUndefined();
  });

  it('reads the issuer, dates and revoked serials of a CRL', async () => {
    const { der } = await makeCrl({ issuer: w.g2, revoked: [w.leaf.serial, 'a5:00:00:01'], thisUpdate: days(-1), nextUpdate: days(2) });
    const crl = readCrl(der);
    expect(crl.revokedSerials).toEqual([w.leaf.serial, 'a5:00:00:01']);
    expect([crl.thisUpdate, crl.nextUpdate]).toEqual([days(-1), days(2)]);
    expect(crl.signatureAlgorithm.oid).toBe('1.2.840.10045.4.3.2');
    expect(children(crl.issuer)).toHaveLength(2);
  });

  it('reads a CRL that revokes nothing', async () => {
    const { der } = await makeCrl({ issuer: w.root, revoked: [], thisUpdate: days(-1), nextUpdate: days(2) });
    expect(readCrl(der).revokedSerials).toEqual([]);
  });
});

/** openssl is the reference implementation: where it is installed, it must agree with us. */
const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const haveOpenssl = openssl.status === 0;
if (!haveOpenssl) console.warn('openssl is not on PATH: skipping the tests that compare checkTrust with `openssl verify` and `openssl crl`');
const withOpenssl = haveOpenssl ? it : it.skip;

describe('agreement with openssl', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'certflow-trust-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  /** `openssl verify` at our fixed clock (-attime), the way a peer holding `root` would. */
  const opensslVerify = (root: Issued, untrusted: Issued, leaf: Issued) =>
    spawnSync(
      'openssl',
      ['verify', '-attime', String(Math.floor(NOW.getTime() / 1000)), '-CAfile', file('root.pem', root.pem), '-untrusted', file('int.pem', untrusted.pem), file('leaf.pem', leaf.pem)],
      { encoding: 'utf8' },
    );

  withOpenssl('agrees that a leaf served with its intermediate is valid under the root', () => {
    const result = opensslVerify(w.root, w.g2, w.leaf);
    expect(result.stdout).toContain(': OK');
    expect(result.status).toBe(0);
    expect(checkTrust(healthy()).reason).toBe('Valid');
  });

  withOpenssl('agrees that an RSA chain is valid under its root', () => {
    expect(opensslVerify(w.rsa.root, w.rsa.int, w.rsa.leaf).status).toBe(0);
    expect(checkTrust(healthy({ servedChain: pemOf(w.rsa.leaf, w.rsa.int), trustBundle: w.rsa.root.pem, privateKeyPem: w.rsa.keyPem })).reason).toBe('Valid');
  });

  withOpenssl('agrees that a chain from a foreign PKI is not trusted', () => {
    const result = opensslVerify(w.root, w.foreignInt, w.foreignLeaf);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/unable to get (local )?issuer certificate/);
    expect(checkTrust(healthy({ servedChain: pemOf(w.foreignLeaf, w.foreignInt), privateKeyPem: undefined })).reason).toBe('UnknownIssuer');
  });

  withOpenssl('lists the serial the fixture revoked in `openssl crl -text`', async () => {
    const { pem } = await makeCrl({ issuer: w.g2, revoked: [w.leaf.serial], thisUpdate: days(-1), nextUpdate: days(2) });
    const result = spawnSync('openssl', ['crl', '-noout', '-text', '-in', file('g2.crl.pem', pem)], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Serial Number: ${w.leaf.serial.replace(/:/g, '').toUpperCase()}`);
    expect(result.stdout).toMatch(/Issuer: CN ?= ?certflow Intermediate G2/);
    expect(checkTrust(healthy({ crls: [pem] })).reason).toBe('Revoked');
  });

  withOpenssl('agrees with `openssl verify -crl_check` that the revoked leaf is revoked', async () => {
    const { pem } = await makeCrl({ issuer: w.g2, revoked: [w.leaf.serial], thisUpdate: days(-1), nextUpdate: days(2) });
    const result = spawnSync(
      'openssl',
      ['verify', '-attime', String(Math.floor(NOW.getTime() / 1000)), '-crl_check', '-CAfile', file('root2.pem', w.root.pem), '-untrusted', file('int2.pem', w.g2.pem), '-CRLfile', file('crl.pem', pem), file('leaf2.pem', w.leaf.pem)],
      { encoding: 'utf8' },
    );
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('certificate revoked');
  });
});
