/**
 * @module test/helpers/settled
 * Whether a promise has settled yet, for asserting that a read is still blocked (and, later, that
 * it woke) without awaiting it.
 */
export function track<T>(p: Promise<T>): { settled: boolean } {
  const state = { settled: false };
  void p.then(() => (state.settled = true), () => (state.settled = true));
  return state;
}
