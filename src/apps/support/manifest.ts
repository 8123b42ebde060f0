/**
 * @module apps/support/manifest
 * What the server knows of the help desk before importing it (apps/catalog): its name, what the
 * landing page shows, and the hub namespaces it registers (reserved while it starts, so a client
 * that subscribes early is told to retry rather than that the namespace does not exist).
 */
import type { AppManifest } from '../app.js';

export const supportManifest = {
  name: 'support',
  title: 'Help desk',
  description: 'Tickets with live chat, typing indicators, status and assignment changes, and remote-session notices',
  namespaces: ['support', 'support-user', 'support-typing'],
} as const satisfies AppManifest;
