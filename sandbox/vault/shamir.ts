import { randomBytes, randomInt } from 'node:crypto';

/**
 * Shamir secret sharing over GF(2^8), byte for byte the scheme of hashicorp/vault `shamir/shamir.go`,
 * so shares are interchangeable with a real Vault's:
 * - the field is GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b);
 * - every byte of the secret gets its own random polynomial whose intercept is that byte;
 * - a share is the polynomial values for every byte (`y1..yN`) followed by ONE byte, the x coordinate;
 * - x coordinates are distinct and non-zero (x = 0 would be the secret itself). Newer Vault draws
 *   them from a random permutation of 1..255; so do we.
 */

/** Bytes a share adds to the secret: the trailing x coordinate (Vault's `ShareOverhead`). */
export const SHARE_OVERHEAD = 1;

/** Thrown on input that cannot be split or combined; the message says which rule was broken. */
export class ShamirInputError extends Error {
  override readonly name = 'ShamirInputError';
}

/** Addition (and subtraction) in GF(2^8). */
export function gfAdd(a: number, b: number): number {
  return (a ^ b) & 0xff;
}

/**
 * Multiplication in GF(2^8) modulo 0x11b. Shift-and-add with no data-dependent table lookups,
 * like Vault's constant-time `mult`.
 */
export function gfMul(a: number, b: number): number {
  let product = 0;
  let x = a & 0xff;
  let y = b & 0xff;
  for (let bit = 0; bit < 8; bit += 1) {
    product ^= -(y & 1) & x;
    const carry = -(x >> 7) & 0x1b;
    x = ((x << 1) ^ carry) & 0xff;
    y >>= 1;
  }
  return product & 0xff;
}

/** Multiplicative inverse: b^254, since b^255 = 1 for every non-zero b. */
function gfInverse(b: number): number {
  let result = 1;
  let base = b;
  let exponent = 254;
  while (exponent > 0) {
    if (exponent & 1) result = gfMul(result, base);
    base = gfMul(base, base);
    exponent >>= 1;
  }
  return result;
}

/** Division in GF(2^8); dividing by zero is a programming error (x coordinates are checked first). */
export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('divide by zero');
  return gfMul(a, gfInverse(b));
}

/** Horner evaluation of the polynomial with `coefficients[0]` as intercept. */
function evaluate(coefficients: Uint8Array, x: number): number {
  if (x === 0) return coefficients[0] ?? 0;
  let out = 0;
  for (let i = coefficients.length - 1; i >= 0; i -= 1) {
    out = gfAdd(gfMul(out, x), coefficients[i] ?? 0);
  }
  return out;
}

/** Lagrange interpolation of the samples, evaluated at x = 0 (the intercept, i.e. the secret byte). */
function interpolateAtZero(xs: readonly number[], ys: readonly number[]): number {
  let result = 0;
  for (let i = 0; i < xs.length; i += 1) {
    let basis = 1;
    for (let j = 0; j < xs.length; j += 1) {
      if (i === j) continue;
      const xi = xs[i] ?? 0;
      const xj = xs[j] ?? 0;
      // At x = 0, (x - xj) / (xi - xj) is xj / (xi ^ xj) in this field.
      basis = gfMul(basis, gfDiv(xj, gfAdd(xi, xj)));
    }
    result = gfAdd(result, gfMul(ys[i] ?? 0, basis));
  }
  return result;
}

/** A uniformly random permutation of 1..255 (Fisher-Yates with a CSPRNG). */
function shuffledXCoordinates(): number[] {
  const xs = Array.from({ length: 255 }, (_, i) => i + 1);
  for (let i = xs.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    const tmp = xs[i] ?? 0;
    xs[i] = xs[j] ?? 0;
    xs[j] = tmp;
  }
  return xs;
}

/**
 * Splits `secret` into `parts` shares, any `threshold` of which rebuild it. Each share is
 * `secret.length + 1` bytes. Same limits and messages as Vault's `shamir.Split`.
 */
export function split(secret: Uint8Array, parts: number, threshold: number): Buffer[] {
  if (!Number.isInteger(parts) || !Number.isInteger(threshold)) {
    throw new ShamirInputError('parts and threshold must be integers');
  }
  if (parts < threshold) throw new ShamirInputError('parts cannot be less than threshold');
  if (parts > 255) throw new ShamirInputError('parts cannot exceed 255');
  if (threshold < 2) throw new ShamirInputError('threshold must be at least 2');
  if (threshold > 255) throw new ShamirInputError('threshold cannot exceed 255');
  if (secret.length === 0) throw new ShamirInputError('cannot split an empty secret');

  const xs = shuffledXCoordinates().slice(0, parts);
  const shares = xs.map((x) => {
    const share = Buffer.alloc(secret.length + SHARE_OVERHEAD);
    share[secret.length] = x;
    return share;
  });

  const coefficients = new Uint8Array(threshold);
  for (let byteIndex = 0; byteIndex < secret.length; byteIndex += 1) {
    coefficients[0] = secret[byteIndex] ?? 0;
    coefficients.set(randomBytes(threshold - 1), 1);
    shares.forEach((share, i) => {
      share[byteIndex] = evaluate(coefficients, xs[i] ?? 0);
    });
  }
  coefficients.fill(0);
  return shares;
}

/**
 * Rebuilds a secret from shares made by {@link split}. Like Vault, it cannot tell a wrong share
 * from a right one: a wrong set yields a wrong secret, which the caller detects (for Vault, the
 * AES-GCM tag of the stored keyring; VAULT_API.md 2.2).
 */
export function combine(shares: readonly Uint8Array[]): Buffer {
  if (shares.length < 2) {
    throw new ShamirInputError('less than two parts cannot be used to reconstruct the secret');
  }
  const shareLength = shares[0]?.length ?? 0;
  if (shareLength < 2) throw new ShamirInputError('parts must be at least two bytes');
  if (shares.some((share) => share.length !== shareLength)) {
    throw new ShamirInputError('all parts must be the same length');
  }

  const xs = shares.map((share) => share[shareLength - 1] ?? 0);
  if (new Set(xs).size !== xs.length) throw new ShamirInputError('duplicate part detected');

  const secret = Buffer.alloc(shareLength - SHARE_OVERHEAD);
  for (let byteIndex = 0; byteIndex < secret.length; byteIndex += 1) {
    secret[byteIndex] = interpolateAtZero(
      xs,
      shares.map((share) => share[byteIndex] ?? 0),
    );
  }
  return secret;
}
