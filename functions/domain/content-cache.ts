import { LRUCache } from 'lru-cache';

/**
 * A cache of what was read from a text or DER, keyed by that content, for one warm function.
 * Bounded twice: by entries, and by the characters of its keys, since the keys come from Secrets,
 * ConfigMaps, Vault and endpoints that a hostile party may fill (a 1 MiB tls.crt of padding
 * around one certificate). What was parsed from a key is proportional to it, so bounding the keys
 * bounds the cache. An entry larger than the whole budget is not kept at all; it is read again
 * each time, which is the behaviour without a cache. The least recently used entry goes first.
 */
export function contentCache<V extends NonNullable<unknown>>(limits: { entries: number; keyChars: number }): LRUCache<string, V> {
  // lru-cache wants a positive size; an empty key still counts as one.
  return new LRUCache<string, V>({ max: limits.entries, maxSize: limits.keyChars, sizeCalculation: (_value, key) => key.length + 1 });
}

const MiB = 1024 * 1024;
export const ContentCacheLimits = {
  /** Parsed certificates by DER (base64): a few per service. */
  certificates: { entries: 4096, keyChars: 16 * MiB },
  /** Certificate lists by PEM text: the bundle, the expected issuer, each chain. */
  pemTexts: { entries: 1024, keyChars: 8 * MiB },
  /** Parsed CRLs by text: a few issuers, but a CRL of many revocations is large. */
  crls: { entries: 256, keyChars: 16 * MiB },
  /** A bundle's roots by the bundle's text: one per namespace. */
  bundles: { entries: 64, keyChars: 2 * MiB },
  /** A served certificate's PEM by its DER (base64): the intermediate, and each leaf once. */
  servedCertificates: { entries: 1024, keyChars: 4 * MiB },
} as const;
