import { randomBytes } from 'node:crypto';
import { combine, gfDiv, gfMul, SHARE_OVERHEAD, ShamirInputError, split } from '../../sandbox/vault/shamir';

/** Every subset of `size` elements of `items`, in order. */
function subsets<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  return items.flatMap((item, i) => subsets(items.slice(i + 1), size - 1).map((rest) => [item, ...rest]));
}

describe('GF(2^8) arithmetic', () => {
  // FIPS-197 section 4.2 examples and the AES inverse pair 0x53 · 0xCA = 1: the field must be the
  // AES field (x^8+x^4+x^3+x+1), the one Vault's shamir package uses, or shares would not interoperate.
  it.each([
    { a: 0x57, b: 0x83, product: 0xc1, label: '0x57 · 0x83 = 0xc1' },
    { a: 0x57, b: 0x13, product: 0xfe, label: '0x57 · 0x13 = 0xfe' },
    { a: 0x53, b: 0xca, product: 0x01, label: '0x53 · 0xca = 0x01' },
    { a: 0x00, b: 0xff, product: 0x00, label: '0x00 · 0xff = 0x00' },
    { a: 0x01, b: 0xab, product: 0xab, label: '0x01 · 0xab = 0xab' },
  ])('multiplies in the AES field: $label', ({ a, b, product }) => {
    expect(gfMul(a, b)).toBe(product);
    expect(gfMul(b, a)).toBe(product);
  });

  it('divides as the inverse of multiplication for every non-zero divisor', () => {
    for (let b = 1; b < 256; b += 1) {
      for (const a of [0, 1, 0x57, 0xff]) expect(gfMul(gfDiv(a, b), b)).toBe(a);
    }
  });

  it('refuses to divide by zero', () => {
    expect(() => gfDiv(1, 0)).toThrow('divide by zero');
  });
});

describe('Shamir split and combine', () => {
  it('combines hand-computed shares of a known polynomial into its intercept', () => {
    // p(x) = 0x42 + 0x57·x: p(1) = 0x42 ^ 0x57 = 0x15, p(0x83) = 0x42 ^ gfMul(0x57, 0x83) = 0x42 ^ 0xc1 = 0x83.
    const shares = [Buffer.from([0x15, 0x01]), Buffer.from([0x83, 0x83])];
    expect(combine(shares)).toEqual(Buffer.from([0x42]));
  });

  it.each([
    { parts: 2, threshold: 2, secretBytes: 1 },
    { parts: 3, threshold: 2, secretBytes: 16 },
    { parts: 5, threshold: 3, secretBytes: 32 },
    { parts: 7, threshold: 7, secretBytes: 32 },
    { parts: 255, threshold: 2, secretBytes: 4 },
  ])('rebuilds a $secretBytes-byte secret from any $threshold of $parts shares', ({ parts, threshold, secretBytes }) => {
    const secret = randomBytes(secretBytes);
    const shares = split(secret, parts, threshold);

    const sampled = parts > 7 ? [shares.slice(0, threshold), shares.slice(-threshold)] : subsets(shares, threshold);
    for (const subset of sampled) expect(combine(subset)).toEqual(secret);
  });

  it('makes shares one byte longer than the secret, ending in distinct non-zero x coordinates', () => {
    const secret = randomBytes(32);
    const shares = split(secret, 10, 3);

    const xs = shares.map((share) => share[share.length - 1]);
    expect(shares.every((share) => share.length === secret.length + SHARE_OVERHEAD)).toBe(true);
    expect(new Set(xs).size).toBe(10);
    expect(xs).not.toContain(0);
  });

  it('gives a different secret when fewer shares than the threshold are combined', () => {
    const secret = randomBytes(32);
    const shares = split(secret, 5, 3);

    expect(combine(shares.slice(0, 2))).not.toEqual(secret);
  });

  it('gives a different secret when one share is mangled, with no error (Vault detects it later)', () => {
    const secret = randomBytes(32);
    const [first, second, third] = split(secret, 5, 3);
    const mangled = Buffer.from(third ?? []);
    mangled[0] = (mangled[0] ?? 0) ^ 0xff;

    expect(combine([first ?? Buffer.alloc(0), second ?? Buffer.alloc(0), mangled])).not.toEqual(secret);
  });

  it('uses fresh randomness: two splits of one secret give different shares', () => {
    const secret = randomBytes(32);

    expect(split(secret, 3, 2)).not.toEqual(split(secret, 3, 2));
  });

  it.each([
    { parts: 2, threshold: 3, secret: 1, message: 'parts cannot be less than threshold' },
    { parts: 256, threshold: 2, secret: 1, message: 'parts cannot exceed 255' },
    { parts: 3, threshold: 1, secret: 1, message: 'threshold must be at least 2' },
    { parts: 3, threshold: 2, secret: 0, message: 'cannot split an empty secret' },
    { parts: 2.5, threshold: 2, secret: 1, message: 'parts and threshold must be integers' },
  ])('refuses to split $parts parts with threshold $threshold of a $secret-byte secret: $message', ({ parts, threshold, secret, message }) => {
    expect(() => split(randomBytes(secret), parts, threshold)).toThrow(new ShamirInputError(message));
  });

  it.each([
    { name: 'a single part', shares: [Buffer.from([1, 1])], message: 'less than two parts cannot be used to reconstruct the secret' },
    { name: 'one-byte parts', shares: [Buffer.from([1]), Buffer.from([2])], message: 'parts must be at least two bytes' },
    { name: 'parts of different lengths', shares: [Buffer.from([1, 1]), Buffer.from([1, 2, 2])], message: 'all parts must be the same length' },
    { name: 'two parts with one x coordinate', shares: [Buffer.from([1, 7]), Buffer.from([2, 7])], message: 'duplicate part detected' },
  ])('refuses to combine $name', ({ shares, message }) => {
    expect(() => combine(shares)).toThrow(new ShamirInputError(message));
  });
});
