/**
 * @module apps/live/manifest
 * What the server knows of the live video app before importing it (apps/catalog): its name, what the
 * landing page shows, and the hub namespaces it registers (reserved while it starts, so a client
 * that subscribes early is told to retry rather than that the namespace does not exist).
 */
import type { AppManifest } from '../app.js';

export const liveManifest = {
  name: 'live',
  apiSegment: 'streams',
  title: 'Live video',
  description: 'RTMP in, LL-HLS and DASH out, live viewer counts and stream analytics',
  namespaces: ['live', 'livestats'],
} as const satisfies AppManifest;
