import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../functions/contracts/errors';
import { MAX_PATH_STEPS, MAX_SIGNATURE_CHECKS, signatureChecksComputed } from '../../functions/domain/path-engine';
import { leafSerial, replacedLeafSerial } from '../../functions/domain/secret-layout';
import { checkTrust, TrustCheckOrder, TrustReasons, type TrustInput, type TrustReason } from '../../functions/domain/trust-checker';
import { rootsOf } from '../../functions/domain/trust-bundle';
import { certificatesFromPem, crlFacts, leafSummary, x509ParseCount } from '../../functions/domain/x509-facts';
import { issuerOf } from '../../functions/domain/issuer-match';
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
  replaceAscii,
  resign,
  unknownExtension,
  type Issued,
  type KeyPair,
} from '../support/pki-fixtures';
import * as x509 from '@peculiar/x509';

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

/** A current CRL of `issuer` listing `revoked`. */
async function crlOf(issuer: Issued, revoked: string[] = [], window: { thisUpdate?: Date; nextUpdate?: Date } = {}): Promise<string> {
  return (await makeCrl({ issuer, revoked, thisUpdate: window.thisUpdate ?? days(-1), nextUpdate: window.nextUpdate ?? days(2) })).pem;
}

/** The CRLs the healthy path needs under -crl_check_all rules: the root's (for G2) and G2's (for the leaf). */
async function pathCrls(g2Revoked: string[] = [], rootRevoked: string[] = []): Promise<string[]> {
  return [await crlOf(w.root, rootRevoked), await crlOf(w.g2, g2Revoked)];
}

/**
 * The path bomb of issue 12: self-issued look-alikes, all named like the leaf's issuer, in two
 * families whose keys sign each other, so every one is a candidate issuer of every other and
 * an unbounded search explores every alternation (about 4x per certificate).
 */
async function bomb(n: number): Promise<TrustInput> {
  const [a, b] = [w.keys.g1, w.keys.impostor];
  const name = 'CN=Look Alike CA';
  const signerA: Issued = { ...w.root, cert: (await makeRoot({ name, key: b, notBefore: days(-1), notAfter: days(100) })).cert, key: b, name };
  const signerB: Issued = { ...w.root, cert: (await makeRoot({ name, key: a, notBefore: days(-1), notAfter: days(100) })).cert, key: a, name };
  const lookAlikes: Issued[] = [];
  for (let i = 0; i < n; i++) {
    // Family A holds key a and is signed by b; family B holds b and is signed by a.
    lookAlikes.push(await makeIntermediate({ name, key: i % 2 ? b : a, issuer: i % 2 ? signerB : signerA, notBefore: days(-1), notAfter: days(100) }));
  }
  const leaf = await leafOf(lookAlikes[0] as Issued, w.keys.leaf);
  return healthy({ servedChain: pemOf(leaf, ...lookAlikes), privateKeyPem: undefined });
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
    'a leaf without a key usage extension is unrestricted in key usage (RFC 5280 4.2.1.3)',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { keyUsage: null }), w.g2) }),
    'Valid',
  ],
  ['a leaf with both EKUs is valid for mTLS, as server and client at once', () => healthy({ purpose: 'mtls' }), 'Valid'],
  ['every declared name of the leaf is covered', () => healthy({ hostNames: [HOST, `${HOST}.cluster.local`, 'x.mesh.internal'] }), 'Valid', /names cover/],
  [
    'a leaf inside its intermediate’s permitted DNS subtree is valid',
    async () => {
      const int = await makeIntermediate({ name: 'CN=Constrained', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), nameConstraints: { permittedDns: ['payments.svc', 'mesh.internal'] } });
      return healthy({ servedChain: pemOf(await leafOf(int, w.keys.leaf, { dnsNames: [HOST, 'x.mesh.internal'] }), int) });
    },
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
    'current CRLs of the root and the intermediate that list other serials leave the leaf valid',
    async () => healthy({ crls: await pathCrls(['01:02:03', w.leafOfG1.serial]) }),
    'Valid',
    /not on 2 current CRL\(s\) of 2 given/,
  ],
  [
    'a CRL of another issuer listing the same serial does not revoke the leaf',
    async () => healthy({ crls: [...(await pathCrls()), await crlOf(w.g1, [w.leaf.serial])] }),
    'Valid',
  ],
  ['a leaf served alone to a bundle that trusts its intermediate needs only that intermediate’s CRL', async () => healthy({ servedChain: w.leaf.pem, trustBundle: w.g2.pem, crls: [await crlOf(w.g2)] }), 'Valid'],

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
    /holds a certificate of that name/,
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
    'a leaf served without its intermediate fails against the roots of a bundle that carries the intermediate, as a root-only peer would',
    () => healthy({ servedChain: w.leaf.pem, trustBundle: rootsOf(pemOf(w.root, w.g1, w.g2)) }),
    'MissingIntermediate',
  ],
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
    /does not allow clientAuth \(client authentication\)/,
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
    /excludes serverAuth/,
  ],

  // KeyMismatch
  ['a private key from another issuance does not match the leaf', async () => healthy({ privateKeyPem: await privateKeyPem(w.keys.leaf2) }), 'KeyMismatch', /different issuances/],
  ['an RSA key does not match an ECDSA leaf', () => healthy({ privateKeyPem: w.rsa.keyPem }), 'KeyMismatch', /\(rsa\) does not belong to the leaf's public key \(ec\)/],

  // Revoked
  [
    'a leaf listed on its issuer’s CRL is revoked',
    async () => healthy({ crls: await pathCrls([w.leaf.serial]) }),
    'Revoked',
    /the leaf CN=api.payments.svc \(serial [0-9a-f:]+\) is listed on CRL 2 of CN=certflow Intermediate G2/,
  ],
  [
    'a leaf listed on a CRL given as base64 DER is revoked',
    async () => healthy({ crls: [await crlOf(w.root), (await makeCrl({ issuer: w.g2, revoked: [w.leaf.serial], thisUpdate: days(-1), nextUpdate: days(2) })).der.toString('base64')] }),
    'Revoked',
  ],
  [
    'a leaf of the old intermediate is found on the old issuer’s CRL, not the default one (P13)',
    async () =>
      healthy({
        servedChain: pemOf(w.leafOfG1, w.g1),
        privateKeyPem: undefined,
        crls: [await crlOf(w.g2), await crlOf(w.g1, [w.leafOfG1.serial]), await crlOf(w.root)],
      }),
    'Revoked',
    /CRL 2 of CN=certflow Intermediate G1/,
  ],
  [
    'an intermediate listed on the root’s CRL revokes every leaf below it',
    async () => healthy({ crls: await pathCrls([], [w.g2.serial]) }),
    'Revoked',
    /the intermediate CN=certflow Intermediate G2/,
  ],

  // RevocationUnknown and CrlStale
  [
    'a CRL listing the leaf but signed by another key does not count, so the leaf’s revocation is unknown',
    async () => healthy({ crls: [await crlOf(w.root), (await makeCrl({ issuer: w.g2, revoked: [], thisUpdate: days(-1), nextUpdate: days(2), signingKey: w.keys.impostor })).pem] }),
    'RevocationUnknown',
    /1 name it as issuer, but its key did not sign them/,
  ],
  ['CRLs given without the intermediate’s own leave the leaf’s revocation unknown', async () => healthy({ crls: [await crlOf(w.root)] }), 'RevocationUnknown', /no CRL signed by CN=certflow Intermediate G2/],
  ['an empty list of CRLs still requires them: revocation is unknown', () => healthy({ crls: [] }), 'RevocationUnknown'],
  [
    'a CRL past its nextUpdate is stale, even when it does not list the leaf',
    async () => healthy({ crls: [await crlOf(w.root), await crlOf(w.g2, [], { thisUpdate: days(-3), nextUpdate: seconds(-1) })] }),
    'CrlStale',
    /CRL 2 of CN=certflow Intermediate G2, O=certflow is valid from .* to 2030-06-01T11:59:59.000Z/,
  ],
  ['a CRL issued in the future is not current either', async () => healthy({ crls: [await crlOf(w.root), await crlOf(w.g2, [], { thisUpdate: days(1), nextUpdate: days(3) })] }), 'CrlStale'],
  ['the root’s stale CRL makes the intermediate’s revocation unknowable', async () => healthy({ crls: [await crlOf(w.root, [], { thisUpdate: days(-9), nextUpdate: days(-2) }), await crlOf(w.g2)] }), 'CrlStale', /CRL 1 of CN=certflow Root/],

  // Issue 12 "Why": each case a concrete certificate that the hand-written checker called Valid
  [
    'a leaf outside its intermediate’s permitted DNS subtree violates the name constraints',
    async () => {
      const int = await makeIntermediate({ name: 'CN=Good Only', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), nameConstraints: { permittedDns: ['good.internal'] } });
      return healthy({ servedChain: pemOf(await leafOf(int, w.keys.leaf, { commonName: 'evil.example.com', dnsNames: ['evil.example.com'], ipAddresses: [] }), int), hostName: 'evil.example.com' });
    },
    'NameConstraintViolation',
    /permitted sub-trees/,
  ],
  [
    'a trust anchor’s own name constraints bind the leaves below it (an intermediate trusted directly)',
    async () => {
      const int = await makeIntermediate({ name: 'CN=Good Only Anchor', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), nameConstraints: { permittedDns: ['good.internal'] } });
      return healthy({ servedChain: (await leafOf(int, w.keys.leaf, { commonName: 'evil.example.com', dnsNames: ['evil.example.com'], ipAddresses: [] })).pem, trustBundle: int.pem, hostName: 'evil.example.com' });
    },
    'NameConstraintViolation',
  ],
  [
    'an excluded DNS subtree is refused',
    async () => {
      const int = await makeIntermediate({ name: 'CN=No Mesh', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), nameConstraints: { excludedDns: ['mesh.internal'] } });
      return healthy({ servedChain: pemOf(await leafOf(int, w.keys.leaf), int) });
    },
    'NameConstraintViolation',
    /excluded sub-trees/,
  ],
  [
    'an unknown critical extension on the leaf is refused (RFC 5280 4.2)',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { extraExtensions: [unknownExtension(true)] }), w.g2) }),
    'UnhandledCriticalExtension',
    /marks extension 1.3.6.1.4.1.55555.1.1 critical/,
  ],
  ['the same unknown extension, not critical, is ignored', async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { extraExtensions: [unknownExtension(false)] }), w.g2) }), 'Valid'],
  [
    'an issuer with basicConstraints twice (CA:FALSE then CA:TRUE) is refused, not read by its last copy',
    async () => {
      const twice = await makeIntermediate({
        name: 'CN=Twice Constrained',
        key: w.keys.g1,
        issuer: w.root,
        notBefore: days(-1),
        notAfter: days(100),
        ca: false,
        extraExtensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
      });
      return healthy({ servedChain: pemOf(await leafOf(twice, w.keys.leaf), twice) });
    },
    'DuplicateExtension',
    /carries extension 2.5.29.19 more than once/,
  ],
  [
    'a leaf with basicConstraints twice is refused',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { extraExtensions: [new x509.BasicConstraintsExtension(false, undefined, true)] }), w.g2) }),
    'DuplicateExtension',
  ],
  [
    'a bundle entry that is an end-entity certificate (no basicConstraints, no keyUsage) may not sign',
    async () => {
      const endEntity = await makeRoot({ name: 'CN=Just A Server', key: w.keys.foreignRoot, notBefore: days(-1), notAfter: days(100), ca: null, keyUsage: null });
      return healthy({ servedChain: (await leafOf(endEntity, w.keys.leaf)).pem, trustBundle: endEntity.pem });
    },
    'WrongKeyUsage',
    /is not a CA/,
  ],
  [
    'a notAfter in month 13 is malformed, not rolled over into next January',
    async () => {
      const leaf = await leafOf(w.g2, w.keys.leaf, { notAfter: new Date('2030-12-15T12:00:00Z') });
      const month13 = resign(leaf, w.g2.key, (tbs) => replaceAscii(tbs, '301215120000Z', '301315120000Z'));
      return healthy({ servedChain: pemOf(month13, w.g2) });
    },
    'MalformedCertificate',
    /its notAfter is not a valid time/,
  ],
  [
    'a leaf with no EKU is not valid for server use: no EKU is not "any"',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { extKeyUsage: null }), w.g2) }),
    'WrongKeyUsage',
    /no EKU is not "any"/,
  ],
  [
    'an end-entity that is itself a CA is not valid for server use',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { ca: true }), w.g2) }),
    'WrongKeyUsage',
    /is itself a CA/,
  ],
  [
    'a server-only leaf is not valid for mTLS, which needs clientAuth too',
    async () => healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { extKeyUsage: [Eku.serverAuth] }), w.g2), purpose: 'mtls' }),
    'WrongKeyUsage',
    /does not allow clientAuth/,
  ],
  ['a declared name the leaf does not carry fails, even when the first name matches', () => healthy({ hostNames: [HOST, 'billing.svc'] }), 'NameMismatch', /do not cover billing.svc/],
  ['a host name with a port is a verdict, not a TypeError', () => healthy({ hostName: `${HOST}:443` }), 'NameMismatch', /neither a DNS name nor an IP address/],
  ['a bracketed IPv6 address is a verdict, not a TypeError', () => healthy({ hostName: '[::1]' }), 'NameMismatch', /neither a DNS name nor an IP address/],
  ['a bracketed IPv6 address with a port is a verdict', () => healthy({ hostName: '[::1]:8443' }), 'NameMismatch'],
  ['an IPv6 address with a zone id is a verdict', () => healthy({ hostName: 'fe80::1%eth0' }), 'NameMismatch'],
  ['an IPv4 address with a port is a verdict', () => healthy({ hostName: '10.0.0.7:443' }), 'NameMismatch'],
  [
    'a workload leaf outside the mesh CA’s name constraints is refused, checked on every leaf it signs',
    async () => {
      const mesh = await makeIntermediate({ name: 'CN=Mesh CA', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(300), pathLength: 0, nameConstraints: { permittedDns: ['mesh.internal'] } });
      const inside = await leafOf(mesh, w.keys.leaf, { commonName: 'a.mesh.internal', dnsNames: ['a.mesh.internal'], ipAddresses: [] });
      expect((await checkTrust(healthy({ servedChain: pemOf(inside, mesh), hostName: 'a.mesh.internal', privateKeyPem: undefined }))).reason).toBe('Valid');
      return healthy({ servedChain: pemOf(await leafOf(mesh, w.keys.leaf, { dnsNames: ['a.mesh.internal', 'api.payments.svc'], ipAddresses: [] }), mesh), hostName: 'a.mesh.internal', privateKeyPem: undefined });
    },
    'NameConstraintViolation',
    /api.payments.svc is outside the subtrees permitted by the intermediate CN=Mesh CA/,
  ],
  [
    'a mesh CA pinned to the root is refused when only an intermediate of the bundle vouches for it',
    async () => {
      const underG2 = await makeIntermediate({ name: 'CN=Mesh CA Under G2', key: w.keys.g1, issuer: w.g2, notBefore: days(-1), notAfter: days(300) });
      return healthy({ servedChain: underG2.pem, trustBundle: rootsOf(pemOf(w.root, w.g2)), hostName: undefined, privateKeyPem: undefined, purpose: 'ca' });
    },
    'MissingIntermediate',
  ],
  ['nine self-issued look-alikes stop the path search at its budget instead of stalling it', () => bomb(9), 'PathBudgetExceeded', /stopped after \d+ signature checks/],

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
    async () => healthy({ privateKeyPem: w.rsa.keyPem, crls: await pathCrls([w.leaf.serial]) }),
    'KeyMismatch',
  ],
  [
    'an unexpected issuer is reported before revocation',
    async () =>
      healthy({
        servedChain: pemOf(w.leafOfG1, w.g1),
        privateKeyPem: undefined,
        expectedIssuerPem: w.g2.pem,
        crls: [await crlOf(w.root), await crlOf(w.g1, [w.leafOfG1.serial])],
      }),
    'UnknownIssuer',
  ],
];

describe('checking a served chain against a trust bundle', () => {
  // A rest parameter: rows without a detail pattern would otherwise make jest read the 4th
  // parameter as a `done` callback and wait for it.
  it.each<Case>(cases)('%s', async (...[, build, reason, detail]: Case) => {
    const verdict = await checkTrust(await build());
    expect({ reason: verdict.reason, valid: verdict.valid }).toEqual({ reason, valid: reason === 'Valid' });
    if (detail) expect(verdict.detail).toMatch(detail);
  });

  it('covers every reason at least once in the table', () => {
    const covered = new Set(cases.map(([, , reason]) => reason));
    expect([...covered].sort()).toEqual(Object.values(TrustReasons).sort());
  });

  it('documents the check order it runs', () => {
    expect(TrustCheckOrder).toEqual(['chain', 'structure', 'keyUsage', 'hostName', 'keyMatch', 'expectedIssuer', 'revocation']);
  });

  it('describes the leaf with its serial written the way Vault writes it', async () => {
    const verdict = await checkTrust(healthy());
    const node = new X509Certificate(w.leaf.pem);
    expect(verdict.leaf).toEqual({
      serial: w.leaf.serial,
      subject: 'CN=api.payments.svc',
      notAfter: days(29).toISOString(),
      fingerprint256: node.fingerprint256,
    });
    expect(verdict.leaf?.serial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
  });

  it('describes the leaf even when the verdict is a failure', async () => {
    expect((await checkTrust(healthy({ hostName: 'billing.svc' }))).leaf?.serial).toBe(w.leaf.serial);
  });

  it('accepts an expected issuer that did sign the leaf', async () => {
    expect((await checkTrust(healthy({ expectedIssuerPem: w.g2.pem }))).reason).toBe('Valid');
  });

  it('never puts the private key into a detail', async () => {
    const keyBody = w.leafKeyPem.split('\n')[1] as string;
    for (const input of [healthy(), healthy({ privateKeyPem: w.rsa.keyPem })]) {
      expect((await checkTrust(input)).detail).not.toContain(keyBody.slice(0, 20));
    }
  });
});

describe('path building within a fixed budget', () => {
  it.each([9, 30])('answers %i self-issued look-alikes with PathBudgetExceeded within the fixed budget of signature checks', async (n) => {
    const verdict = await checkTrust(await bomb(n));
    expect(verdict.reason).toBe('PathBudgetExceeded');
    expect(verdict.work.signatureChecks).toBeLessThanOrEqual(MAX_SIGNATURE_CHECKS);
    expect(verdict.work.pathSteps).toBeLessThanOrEqual(MAX_PATH_STEPS + 1);
  });

  it('spends a handful of signature checks on a healthy chain with its CRLs', async () => {
    const verdict = await checkTrust(healthy({ trustBundle: pemOf(w.root, w.g1, w.g2), crls: await pathCrls() }));
    expect(verdict.reason).toBe('Valid');
    expect(verdict.work.signatureChecks).toBeLessThanOrEqual(4);
  });

  it('computes the signatures of a chain and CRLs it judged before only once, and still counts them against the budget', async () => {
    const input = healthy({ trustBundle: pemOf(w.root, w.g1, w.g2), crls: await pathCrls() });
    const first = await checkTrust(input);
    const computed = signatureChecksComputed();
    const again = await checkTrust(input);
    expect([first.reason, again.reason]).toEqual(['Valid', 'Valid']);
    expect(signatureChecksComputed()).toBe(computed);
    expect(again.work.signatureChecks).toBe(first.work.signatureChecks);
  });

  it('still refuses a CRL signed by another key after the genuine one was judged', async () => {
    const genuine = healthy({ crls: [await crlOf(w.root), await crlOf(w.g2)] });
    expect((await checkTrust(genuine)).reason).toBe('Valid');
    const forged = (await makeCrl({ issuer: w.g2, revoked: [], thisUpdate: days(-1), nextUpdate: days(2), signingKey: w.keys.impostor })).pem;
    expect((await checkTrust(healthy({ crls: [await crlOf(w.root), forged] }))).reason).toBe('RevocationUnknown');
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
  ])('rejects %s', async (_name, overrides, message) => {
    const run = () => checkTrust(healthy(overrides()));
    await expect(run()).rejects.toThrow(InvalidInputError);
    await expect(run()).rejects.toThrow(message);
  });

  it('names the input that failed in the error details, which are safe to log', async () => {
    const error = await checkTrust(healthy({ privateKeyPem: 'garbage-key-material' })).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual({ input: 'privateKeyPem' });
    expect((error as Error).message).not.toContain('garbage-key-material');
  });
});

describe('the roots of a trust bundle', () => {
  it('keeps only the self-signed certificates of a bundle', () => {
    expect(certificatesFromPem(rootsOf(pemOf(w.g1, w.root, w.g2, w.rsa.root)), 'roots').map((cert) => cert.subject)).toEqual(['CN=certflow Root, O=certflow', 'CN=certflow RSA Root']);
  });

  it('keeps a bundle of intermediates only as it is: they are its anchors', () => {
    expect(rootsOf(pemOf(w.g1, w.g2))).toBe(pemOf(w.g1, w.g2));
  });

  it('gives the same roots when the same bundle is asked for again, and parses none of its certificates again', () => {
    const bundle = pemOf(w.g2, w.rsa.root, w.g1);
    const first = rootsOf(bundle);
    const parses = x509ParseCount();
    expect(rootsOf(bundle)).toBe(first);
    expect(certificatesFromPem(first, 'roots').map((cert) => cert.subject)).toEqual(['CN=certflow RSA Root']);
    expect(x509ParseCount()).toBe(parses);
  });
});

describe('what a plan reads of a leaf, by Node alone', () => {
  it('reads the serial and validity of a leaf as the full parse does', () => {
    for (const chain of [pemOf(w.leaf, w.g2), w.rsa.leaf.pem, w.leafOfG1.pem]) {
      const full = certificatesFromPem(chain, 'full')[0];
      const summary = leafSummary(chain, 'summary');
      expect([summary?.serial, summary?.notBefore, summary?.notAfter]).toEqual([full?.serial, full?.notBefore, full?.notAfter]);
      expect(summary?.cert.fingerprint256).toBe(full?.cert.fingerprint256);
    }
    expect(leafSummary('no certificate here', 'none')).toBeUndefined();
  });

  it('takes the full parse for a certificate Node cannot read, which names it in its error', () => {
    const broken = w.leaf.pem.replace(/\n[A-Za-z0-9+/]{20}/, (line) => `\n${'A'.repeat(line.length - 1)}`);
    expect(() => leafSummary(broken, 'svc certificate')).toThrow(/svc certificate certificate 1 is not a valid X.509 certificate/);
  });

  it('reads a leaf whose extension pkijs cannot parse, which the full parse (the trust checker) refuses', async () => {
    const odd = await leafOf(w.g2, w.keys.leaf, { keyUsage: null, extraExtensions: [new x509.Extension('2.5.29.15', true, new Uint8Array([0x03, 0x05, 0x00]))] });
    expect(() => certificatesFromPem(odd.pem, 'odd')).toThrow(/odd certificate 1 has an extension that does not parse/);
    expect(leafSummary(odd.pem, 'odd')?.serial).toBe(odd.serial);
  });

  it('names the issuer whose key signed the leaf, never one that only carries its issuer name', async () => {
    const lookalike = await makeIntermediate({ name: w.g2.name, key: w.keys.impostor, issuer: w.root, notBefore: days(-1), notAfter: days(100) });
    const issuers = [
      { issuerId: 'lookalike', certificatePem: lookalike.pem },
      { issuerId: 'g1', certificatePem: w.g1.pem },
      { issuerId: 'g2', certificatePem: w.g2.pem },
    ];
    expect(issuerOf(leafSummary(w.leaf.pem, 'leaf')!, issuers)).toBe('g2');
    expect(issuerOf(leafSummary(w.leafOfG1.pem, 'leaf')!, issuers)).toBe('g1');
    expect(issuerOf(leafSummary(w.leaf.pem, 'leaf')!, issuers.slice(0, 2))).toBeUndefined();
  });
});

describe('each PEM text read once per warm function', () => {
  it('hands out a list the caller may change without changing what the next caller reads', () => {
    const text = pemOf(w.leaf, w.g2, w.root);
    const mine = certificatesFromPem(text, 'chain');
    const asRead = mine.map((cert) => cert.serial);
    mine.reverse();
    mine.pop();
    expect(certificatesFromPem(text, 'chain').map((cert) => cert.serial)).toEqual(asRead);
    expect(asRead).toEqual([w.leaf.serial, w.g2.serial, w.root.serial]);
  });

  it('parses no certificate again for a text it has read, and still refuses a malformed one each time it is asked', () => {
    const text = pemOf(w.leafOfG1, w.g1);
    certificatesFromPem(text, 'chain');
    const parses = x509ParseCount();
    expect(certificatesFromPem(text, 'chain')).toHaveLength(2);
    expect(x509ParseCount()).toBe(parses);
    const broken = w.leaf.pem.replace(/\n[A-Za-z0-9+/]{20}/, (line) => `\n${'A'.repeat(line.length - 1)}`);
    for (const attempt of [1, 2]) expect(() => certificatesFromPem(broken, `broken ${attempt}`)).toThrow(new RegExp(`broken ${attempt} certificate 1 is not a valid X.509 certificate`));
  });
});

describe('reading certificates and CRLs through the libraries', () => {
  it('reads basicConstraints, key usage bits and EKUs of a certificate', () => {
    const [leaf, g2] = certificatesFromPem(pemOf(w.leaf, w.g2), 'test');
    expect(leaf).toMatchObject({ basicConstraints: { ca: false }, keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] });
    expect(g2).toMatchObject({ basicConstraints: { ca: true }, keyUsage: ['keyCertSign', 'cRLSign'], notAfter: days(1825) });
    expect(g2?.extKeyUsage).toBeUndefined();
  });

  it('writes serials the way Vault does, without the sign byte DER adds', () => {
    const [leaf] = certificatesFromPem(w.leaf.pem, 'test');
    expect(leaf?.serial).toBe(w.leaf.serial);
    expect(leaf?.serial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
  });

  it('reads the serial of a Secret about to be replaced as the full parse does', () => {
    for (const chain of [pemOf(w.leaf, w.g2), w.rsa.leaf.pem, w.leafOfG1.pem]) expect(replacedLeafSerial(chain)).toBe(leafSerial(chain));
    expect([replacedLeafSerial(undefined), replacedLeafSerial('no certificate here')]).toEqual([undefined, undefined]);
  });

  it('reads the issuer, dates and revoked serials of a CRL', async () => {
    const { pem } = await makeCrl({ issuer: w.g2, revoked: [w.leaf.serial, 'a5:00:00:01'], thisUpdate: days(-1), nextUpdate: days(2) });
    const crl = crlFacts(pem, 0);
    expect([...crl.revokedSerials]).toEqual([w.leaf.serial, 'a5:00:00:01']);
    expect([crl.thisUpdate, crl.nextUpdate]).toEqual([days(-1), days(2)]);
    expect(crl.issuerKey).toBe(certificatesFromPem(w.g2.pem, 'g2')[0]?.subjectKey);
  });

  it('reads a CRL that revokes nothing', async () => {
    const { der } = await makeCrl({ issuer: w.root, revoked: [], thisUpdate: days(-1), nextUpdate: days(2) });
    expect(crlFacts(der.toString('base64'), 0).revokedSerials.size).toBe(0);
  });

  it('flags a month-13 notAfter as OpenSSL reads it, rather than rolling it over', async () => {
    const leaf = await leafOf(w.g2, w.keys.leaf, { notAfter: new Date('2030-12-15T12:00:00Z') });
    const [facts] = certificatesFromPem(resign(leaf, w.g2.key, (tbs) => replaceAscii(tbs, '301215120000Z', '301315120000Z')).pem, 'month 13');
    expect(facts?.validityError).toBe('its notAfter is not a valid time');
  });
});

/** openssl is the reference implementation: where it is installed, it must agree with us. */
const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const haveOpenssl = openssl.status === 0;
if (!haveOpenssl) console.warn('openssl is not on PATH: skipping the tests that compare checkTrust with `openssl verify` and `openssl crl`');
const withOpenssl = haveOpenssl ? it : it.skip;

describe('agreement with openssl on the issue’s cases', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'certflow-trust-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let counter = 0;
  const file = (text: string) => {
    const path = join(dir, `f${(counter += 1)}.pem`);
    writeFileSync(path, text);
    return path;
  };
  /** `openssl verify` at our fixed clock, the way a peer holding `bundle` would. */
  const opensslVerify = (input: TrustInput, extra: string[] = []) => {
    const [leaf, ...rest] = input.servedChain.split(/(?=-----BEGIN CERTIFICATE-----)/);
    const args = ['verify', '-attime', String(Math.floor(NOW.getTime() / 1000)), '-partial_chain', '-purpose', 'sslserver', '-CAfile', file(input.trustBundle), ...extra];
    if (rest.length) args.push('-untrusted', file(rest.join('\n')));
    if (input.hostName) args.push('-verify_hostname', input.hostName);
    for (const crl of input.crls ?? []) args.push('-CRLfile', file(crl));
    if (input.crls) args.push('-crl_check_all');
    return spawnSync('openssl', [...args, file(leaf as string)], { encoding: 'utf8' });
  };

  withOpenssl('agrees that a leaf served with its intermediate is valid under the root', async () => {
    const result = opensslVerify(healthy());
    expect(result.stdout).toContain(': OK');
    expect((await checkTrust(healthy())).reason).toBe('Valid');
  });

  withOpenssl('agrees that a chain from a foreign PKI is not trusted', async () => {
    const input = healthy({ servedChain: pemOf(w.foreignLeaf, w.foreignInt), privateKeyPem: undefined });
    const result = opensslVerify(input);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/unable to get (local )?issuer certificate/);
    expect((await checkTrust(input)).reason).toBe('UnknownIssuer');
  });

  withOpenssl('agrees with `-crl_check_all` that the revoked leaf is revoked', async () => {
    const input = healthy({ crls: await pathCrls([w.leaf.serial]) });
    const result = opensslVerify(input);
    expect(result.stdout + result.stderr).toContain('certificate revoked');
    expect((await checkTrust(input)).reason).toBe('Revoked');
  });

  withOpenssl('agrees that name constraints, an unknown critical extension, a duplicate extension, a month 13 and an end-entity signer are refused', async () => {
    const constrained = await makeIntermediate({ name: 'CN=Good Only', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), nameConstraints: { permittedDns: ['good.internal'] } });
    const evil = await leafOf(constrained, w.keys.leaf, { commonName: 'evil.example.com', dnsNames: ['evil.example.com'], ipAddresses: [] });
    const twice = await makeIntermediate({ name: 'CN=Twice', key: w.keys.g1, issuer: w.root, notBefore: days(-1), notAfter: days(100), ca: false, extraExtensions: [new x509.BasicConstraintsExtension(true, undefined, true)] });
    const endEntity = await makeRoot({ name: 'CN=Just A Server', key: w.keys.foreignRoot, notBefore: days(-1), notAfter: days(100), ca: null, keyUsage: null });
    const month13 = resign(await leafOf(w.g2, w.keys.leaf, { notAfter: new Date('2030-12-15T12:00:00Z') }), w.g2.key, (tbs) => replaceAscii(tbs, '301215120000Z', '301315120000Z'));
    const inputs = [
      healthy({ servedChain: pemOf(evil, constrained), hostName: 'evil.example.com', privateKeyPem: undefined }),
      healthy({ servedChain: pemOf(await leafOf(w.g2, w.keys.leaf, { extraExtensions: [unknownExtension(true)] }), w.g2) }),
      healthy({ servedChain: pemOf(await leafOf(twice, w.keys.leaf), twice) }),
      healthy({ servedChain: (await leafOf(endEntity, w.keys.leaf)).pem, trustBundle: endEntity.pem }),
      healthy({ servedChain: pemOf(month13, w.g2) }),
    ];
    for (const input of inputs) {
      expect(opensslVerify(input).status).not.toBe(0);
      expect((await checkTrust(input)).valid).toBe(false);
    }
  });
});
