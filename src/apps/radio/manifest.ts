/**
 * @module apps/radio/manifest
 * What the server knows of the radio before importing it (apps/catalog): its name, what the
 * landing page shows, and the hub namespaces it registers (reserved while it starts, so a client
 * that subscribes early is told to retry rather than that the namespace does not exist).
 */
import type { AppManifest } from '../app.js';

export const radioManifest = {
  name: 'radio',
  title: 'Airwaves Radio',
  description: 'Calm generative ambient stations, composed and synthesised live on the server; one stream for every listener.',
  namespaces: ['radio', 'radio-status'],
} as const satisfies AppManifest;
