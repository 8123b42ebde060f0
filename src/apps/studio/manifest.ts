/**
 * @module apps/studio/manifest
 * What the server knows of the conversation studio before importing it (apps/catalog): its name, what the
 * landing page shows, and the hub namespaces it registers (reserved while it starts, so a client
 * that subscribes early is told to retry rather than that the namespace does not exist).
 */
import type { AppManifest } from '../app.js';

export const studioManifest = {
  name: 'studio',
  title: 'Conversation studio',
  description: 'Review, generate and export conversation data for fine-tuning',
  namespaces: ['studio'],
} as const satisfies AppManifest;
