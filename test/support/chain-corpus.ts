/**
 * The generated corpus of the differential test: fast-check draws a chain *spec* (key types,
 * names and SANs, EKU and key usage, basicConstraints, name constraints, critical and duplicate
 * extensions, validity windows and malformed times, CRLs with and without the serial, stale
 * CRLs), and `buildCase` turns it into real certificates and CRLs with pki-fixtures.
 *
 * `stricterThanOpenssl` lists, from the spec alone, where certflow's policy is deliberately
 * stricter than `openssl verify` (README "Verification"); the expected verdict is OpenSSL's
 * and those rules, never certflow's own checker.
 */
import 'reflect-metadata';
import fc from 'fast-check';
import * as x509 from '@peculiar/x509';
import { Eku, KeyUsage, makeCrl, makeIntermediate, makeLeaf, makeRoot, replaceAscii, resign, unknownExtension, type Issued, type KeyKind, type KeyPair } from './pki-fixtures';

export const CORPUS_NOW = new Date('2030-06-01T12:00:00Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(CORPUS_NOW.getTime() + days * DAY);

type Window = 'valid' | 'expired' | 'notYet';
type Basic = 'ca' | 'notCa' | 'absent' | 'duplicate';
type CaUsage = 'default' | 'noCertSign' | 'absent' | 'noCrlSign';
type CaEku = 'absent' | 'tls' | 'serverOnly' | 'codeSigning';
type Constraint = 'none' | 'permitGood' | 'excludeEvil';

export interface CaSpec {
  key: KeyKind;
  window: Window;
  basic: Basic;
  pathLength: 'none' | 0 | 1;
  usage: CaUsage;
  eku: CaEku;
  constraint: Constraint;
  criticalUnknown: boolean;
}

export interface CrlSpec {
  present: boolean;
  revokesChild: boolean;
  stale: boolean;
}

export interface ChainSpec {
  root: CaSpec;
  /** Zero, one or two intermediates below the root, top first. */
  intermediates: CaSpec[];
  leaf: {
    key: KeyKind;
    window: Window | 'month13';
    basic: 'notCa' | 'absent' | 'ca' | 'duplicate';
    usage: 'default' | 'encipherOnly' | 'absent';
    eku: 'both' | 'server' | 'client' | 'none' | 'codeSigning';
    sans: 'good' | 'evil' | 'goodAndEvil' | 'wildcardGood';
    criticalUnknown: boolean;
  };
  /** The bundle holds the root, or the top intermediate (a partial chain). */
  anchor: 'root' | 'topIntermediate';
  host: 'first' | 'other';
  purpose: 'server' | 'client';
  /** No revocation checking, or a CRL per issuer below the anchor (and the anchor's own issuer's, when it has one). */
  crls: 'none' | CrlSpec[];
}

const weighted = <T>(...entries: Array<[T, number]>) => fc.oneof(...entries.map(([value, weight]) => ({ arbitrary: fc.constant(value), weight })));

const caSpec: fc.Arbitrary<CaSpec> = fc.record({
  key: weighted<KeyKind>(['ec', 4], ['rsa', 1]),
  window: weighted<Window>(['valid', 40], ['expired', 1], ['notYet', 1]),
  basic: weighted<Basic>(['ca', 40], ['notCa', 1], ['absent', 1], ['duplicate', 1]),
  pathLength: weighted<'none' | 0 | 1>(['none', 8], [0, 2], [1, 2]),
  usage: weighted<CaUsage>(['default', 40], ['noCertSign', 1], ['absent', 2], ['noCrlSign', 1]),
  eku: weighted<CaEku>(['absent', 30], ['tls', 4], ['serverOnly', 2], ['codeSigning', 1]),
  constraint: weighted<Constraint>(['none', 12], ['permitGood', 3], ['excludeEvil', 1]),
  criticalUnknown: weighted([false, 40], [true, 1]),
});

const crlSpec: fc.Arbitrary<CrlSpec> = fc.record({
  present: weighted([true, 40], [false, 1]),
  revokesChild: weighted([false, 14], [true, 1]),
  stale: weighted([false, 20], [true, 1]),
});

export const chainSpec: fc.Arbitrary<ChainSpec> = fc
  .record({
    root: caSpec,
    intermediates: fc.array(caSpec, { minLength: 0, maxLength: 2 }),
    leaf: fc.record({
      key: weighted<KeyKind>(['ec', 4], ['rsa', 1]),
      window: weighted<Window | 'month13'>(['valid', 40], ['expired', 1], ['notYet', 1], ['month13', 1]),
      basic: weighted<'notCa' | 'absent' | 'ca' | 'duplicate'>(['notCa', 30], ['absent', 4], ['ca', 1], ['duplicate', 1]),
      usage: weighted<'default' | 'encipherOnly' | 'absent'>(['default', 30], ['encipherOnly', 1], ['absent', 4]),
      eku: weighted<'both' | 'server' | 'client' | 'none' | 'codeSigning'>(['both', 30], ['server', 4], ['client', 2], ['none', 1], ['codeSigning', 1]),
      sans: weighted<'good' | 'evil' | 'goodAndEvil' | 'wildcardGood'>(['good', 10], ['evil', 2], ['goodAndEvil', 2], ['wildcardGood', 2]),
      criticalUnknown: weighted([false, 40], [true, 1]),
    }),
    anchor: weighted<'root' | 'topIntermediate'>(['root', 3], ['topIntermediate', 1]),
    host: weighted<'first' | 'other'>(['first', 20], ['other', 1]),
    purpose: weighted<'server' | 'client'>(['server', 3], ['client', 1]),
    crls: fc.oneof({ arbitrary: fc.constant<'none'>('none'), weight: 1 }, { arbitrary: fc.array(crlSpec, { minLength: 3, maxLength: 3 }), weight: 1 }),
  })
  // An intermediate anchors only a one-intermediate chain when CRLs are checked: `openssl verify
  // -partial_chain -crl_check_all` also wants the revocation status of a trust anchor that is not
  // self-signed, which no CRL can give (its issuer is not in the store), while certflow, as RFC
  // 5280 6.1, takes an anchor as trusted. With one intermediate the leaf is the only certificate
  // below the anchor, so `-crl_check` (the leaf's CRL) asks exactly what certflow asks.
  .map((spec) => (spec.intermediates.length === 0 || (spec.crls !== 'none' && spec.intermediates.length === 2) ? { ...spec, anchor: 'root' as const } : spec));

/** The keys of the corpus, made once: RSA-2048 generation costs about 100 ms a key. */
export type KeyPool = Record<KeyKind, KeyPair[]>;

function windowOf(window: Window): { notBefore: Date; notAfter: Date } {
  if (window === 'expired') return { notBefore: at(-200), notAfter: at(-1) };
  if (window === 'notYet') return { notBefore: at(1), notAfter: at(300) };
  return { notBefore: at(-30), notAfter: at(400) };
}

function caOptions(spec: CaSpec, name: string, key: KeyPair) {
  const usage = { default: KeyUsage.keyCertSign | KeyUsage.cRLSign, noCertSign: KeyUsage.cRLSign | KeyUsage.digitalSignature, absent: null, noCrlSign: KeyUsage.keyCertSign }[spec.usage];
  const eku = { absent: undefined, tls: [Eku.serverAuth, Eku.clientAuth], serverOnly: [Eku.serverAuth], codeSigning: [Eku.codeSigning] }[spec.eku];
  const extras: x509.Extension[] = [];
  if (spec.basic === 'duplicate') extras.push(new x509.BasicConstraintsExtension(true, undefined, true));
  if (spec.criticalUnknown) extras.push(unknownExtension(true));
  return {
    name,
    key,
    ...windowOf(spec.window),
    ca: spec.basic === 'absent' ? null : spec.basic === 'ca',
    ...(spec.pathLength !== 'none' && spec.basic === 'ca' ? { pathLength: spec.pathLength } : {}),
    keyUsage: usage,
    ...(eku ? { extKeyUsage: eku } : {}),
    ...(spec.constraint === 'permitGood' ? { nameConstraints: { permittedDns: ['good.internal'] } } : {}),
    ...(spec.constraint === 'excludeEvil' ? { nameConstraints: { excludedDns: ['evil.example.com'] } } : {}),
    extraExtensions: extras,
  };
}

const SANS = {
  good: ['svc.good.internal'],
  evil: ['evil.example.com'],
  goodAndEvil: ['svc.good.internal', 'evil.example.com'],
  wildcardGood: ['*.good.internal'],
} as const;

export interface BuiltCase {
  spec: ChainSpec;
  /** PEM: leaf first, then the intermediates below the anchor. */
  servedChain: string;
  servedIntermediates: string[];
  leafPem: string;
  trustBundle: string;
  hostName: string;
  crls?: string[];
}

/** Certificates and CRLs for one spec; `index` keeps names and serials distinct across the corpus. */
export async function buildCase(spec: ChainSpec, pool: KeyPool, index: number): Promise<BuiltCase> {
  const pick = (kind: KeyKind, slot: number) => pool[kind][slot % pool[kind].length] as KeyPair;
  const root = await makeRoot(caOptions(spec.root, `CN=Corpus Root ${index}`, pick(spec.root.key, 0)));
  const chain: Issued[] = [root];
  for (const [depth, intSpec] of spec.intermediates.entries()) {
    chain.push(await makeIntermediate({ ...caOptions(intSpec, `CN=Corpus Intermediate ${index}.${depth + 1}`, pick(intSpec.key, depth + 1)), issuer: chain[chain.length - 1] as Issued }));
  }
  const issuer = chain[chain.length - 1] as Issued;
  const leafWindow = spec.leaf.window === 'month13' ? { notBefore: at(-10), notAfter: new Date('2030-12-15T12:00:00Z') } : windowOf(spec.leaf.window);
  const extras: x509.Extension[] = [];
  if (spec.leaf.basic === 'duplicate') extras.push(new x509.BasicConstraintsExtension(false, undefined, true));
  if (spec.leaf.criticalUnknown) extras.push(unknownExtension(true));
  const sans = [...SANS[spec.leaf.sans]];
  let leaf = await makeLeaf({
    issuer,
    key: pick(spec.leaf.key, 3),
    commonName: sans[0] as string,
    dnsNames: sans,
    ...leafWindow,
    keyUsage: { default: KeyUsage.digitalSignature | KeyUsage.keyEncipherment, encipherOnly: KeyUsage.keyEncipherment, absent: null }[spec.leaf.usage],
    extKeyUsage: { both: [Eku.serverAuth, Eku.clientAuth], server: [Eku.serverAuth], client: [Eku.clientAuth], none: null, codeSigning: [Eku.codeSigning] }[spec.leaf.eku],
    ca: spec.leaf.basic === 'absent' ? null : spec.leaf.basic === 'ca',
    extraExtensions: extras,
  });
  if (spec.leaf.window === 'month13') leaf = resign(leaf, issuer.key, (tbs) => replaceAscii(tbs, '301215120000Z', '301315120000Z'));

  const anchorIndex = spec.anchor === 'root' ? 0 : 1;
  const anchor = chain[anchorIndex] as Issued;
  const served = chain.slice(anchorIndex + 1).reverse();
  const built: BuiltCase = {
    spec,
    servedChain: [leaf, ...served].map((c) => c.pem).join('\n'),
    servedIntermediates: served.map((c) => c.pem),
    leafPem: leaf.pem,
    trustBundle: anchor.pem,
    hostName: spec.host === 'other' ? 'other.example.org' : sans[0] === '*.good.internal' ? 'api.good.internal' : (sans[0] as string),
  };
  if (spec.crls !== 'none') {
    // One CRL per issuer on the path (root and every intermediate), each about its child.
    const crls: string[] = [];
    const subjects = [...chain.slice(1), leaf];
    for (const [position, ca] of chain.entries()) {
      const crl = spec.crls[position % spec.crls.length] as CrlSpec;
      if (!crl.present) continue;
      const child = subjects[position] as Issued;
      const window = crl.stale ? { thisUpdate: at(-10), nextUpdate: at(-1) } : { thisUpdate: at(-1), nextUpdate: at(6) };
      crls.push((await makeCrl({ issuer: ca, revoked: crl.revokesChild ? [child.serial] : ['7f:00:00:01'], ...window })).pem);
    }
    built.crls = crls;
  }
  return built;
}

/**
 * Where certflow is stricter than `openssl verify -purpose sslserver|sslclient` on purpose
 * (trust-checker.ts checkKeyUsage), judged from the spec: each rule a reason certflow refuses
 * what OpenSSL accepts.
 */
export function stricterThanOpenssl(spec: ChainSpec): string[] {
  const rules: string[] = [];
  if (spec.leaf.eku === 'none') rules.push('no EKU is not "any"');
  if (spec.leaf.basic === 'ca') rules.push('an end-entity may not be a CA');
  if (spec.leaf.usage === 'encipherOnly') rules.push('TLS needs digitalSignature');
  // RFC 5280 4.2.1.9: a CA certificate must say CA:true; OpenSSL also takes a keyCertSign key usage alone.
  const path = spec.anchor === 'root' ? [spec.root, ...spec.intermediates] : spec.intermediates;
  if (path.some((ca) => ca.basic === 'absent')) rules.push('a CA needs basicConstraints CA:true');
  return rules;
}
