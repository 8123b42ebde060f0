/**
 * @module web/shared/hub-url
 * The hub's WebSocket URL for a page served by the same Airwaves node (the protocol's WS_PATH,
 * over wss when the page came over https).
 */
import { WS_PATH } from '../../src/client/index.js';

export function hubUrl(location: Location = window.location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_PATH}`;
}
