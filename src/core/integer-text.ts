/**
 * @module core/integer-text
 * An integer as decimal text, made in the young generation. `String(n)` and `` `${n}` `` of a
 * number that is not a small integer (a `Date.now()`, a venue's trade id past 2^31) go through
 * V8's number-string cache, which allocates the string in the old generation: ~33 bytes per
 * conversion that only a mark-compact frees, on paths that run per message. `toFixed(0)` makes a
 * young string, equal to `String(n)` for every safe integer (test/core/integer-text.test.ts).
 */
export function integerText(n: number): string {
  return Number.isSafeInteger(n) ? n.toFixed(0) : String(n);
}
