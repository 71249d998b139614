// Seeded PRNG for sampling: xoshiro128** (fast, 32-bit integer ops only) seeded through splitmix64,
// so that (seed, stream) pairs give independent, reproducible streams — one stream per batch row.

const MASK64 = (1n << 64n) - 1n;

/** One splitmix64 step: advances `state` by the golden gamma and returns the mixed output. */
export function splitmix64(state: bigint): { state: bigint; value: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { state: next, value: z ^ (z >> 31n) };
}

function checkIndex(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`Rng: ${what} must be a non-negative safe integer, got ${String(value)}`);
  }
}

/** A fresh seed from the OS entropy source, kept within 2^53 so it survives JSON round trips. */
export function randomSeed(): number {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (words[0]! & 0x1fffff) * 0x100000000 + words[1]!;
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** `stream` selects an independent sequence for the same seed (e.g. the batch row). */
  constructor(
    readonly seed: number,
    readonly stream = 0,
  ) {
    checkIndex(seed, 'seed');
    checkIndex(stream, 'stream');
    // Hash (seed, stream) through two splitmix64 rounds; then draw the 128-bit state from it.
    let st = splitmix64(BigInt(seed)).value;
    st = splitmix64(st ^ BigInt(stream)).value;
    const a = splitmix64(st);
    const b = splitmix64(a.state);
    this.setState(Number(a.value & 0xffffffffn), Number(a.value >> 32n), Number(b.value & 0xffffffffn), Number(b.value >> 32n));
  }

  /** Replaces the raw xoshiro state (tests compare against the reference implementation). */
  setState(s0: number, s1: number, s2: number, s3: number): void {
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
    // The all-zero state is a fixed point of xoshiro; splitmix output makes it practically unreachable.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit output as an unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits (two 32-bit draws). */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
