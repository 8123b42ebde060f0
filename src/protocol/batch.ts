/**
 * @module protocol/batch
 * Batching: the hub joins the text frames waiting for a client with "\n" into one WebSocket frame
 * (docs/architecture.md, "One write per client per turn"); a client splits them back here.
 */

/** What separates the JSON values of one batched server text frame. */
export const BATCH_SEPARATOR = '\n';

/** Splits a server text frame into its JSON values. */
export function splitServerFrame(text: string): unknown[] {
  if (text.indexOf(BATCH_SEPARATOR) < 0) return [JSON.parse(text)];
  return text.split(BATCH_SEPARATOR).map((line) => JSON.parse(line));
}
