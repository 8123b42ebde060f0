/**
 * @module apps/radio/compose/rng
 * A small seeded PRNG (core/random's mulberry32) with the helpers composition needs. Every random
 * choice in a station comes from one of these, so a seed fully determines the music: the same
 * stream for every listener and every render.
 */
import { seededRandom } from '../../../core/random.js';

export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed ^ 0x9e3779b9);
    // Warm up so nearby seeds diverge immediately.
    for (let i = 0; i < 4; i++) this.next();
  }

  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks by weight; weights need not sum to 1. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i];
      if (r < 0) return items[i];
    }
    return items[items.length - 1];
  }
}
