import fc from "fast-check";

// Reordering a roster must change nothing it means. These helpers reorder everything that has an order:
// every list (domains, developers, service accounts, a developer's domains, a domain's readers) and the keys
// of every mapping, driven by a seed fast-check draws, so a failing case replays and reports its seed.

/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with the given source of randomness; returns a new array. */
export function permute<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A copy of a plain JSON-like value with every array permuted and every object's keys reordered, all the way down. */
export function shuffleDeep<T>(value: T, random: () => number): T {
  if (Array.isArray(value)) return permute(value.map((item: unknown) => shuffleDeep(item, random)), random) as T;
  if (value !== null && typeof value === "object")
    return Object.fromEntries(permute(Object.entries(value).map(([k, v]) => [k, shuffleDeep(v, random)] as const), random)) as T;
  return value;
}

/** The roster file (or any plain value) reordered everywhere by `seed`. */
export const shuffled = <T>(value: T, seed: number): T => shuffleDeep(value, seededRandom(seed));

/** A seed for `shuffled`. */
export const shuffleSeed: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xffffffff });
