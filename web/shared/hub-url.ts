/**
 * @module web/shared/hub-url
 * The hub's WebSocket URL for a page served by the same Airwaves node.
 */
export function hubUrl(location: Location = window.location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}
