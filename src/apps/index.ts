/**
 * @module apps
 * The apps this server hosts, in the order they start.
 */
import type { AirwavesApp } from './app.js';
import { radioApp } from './radio/index.js';
import { supportApp } from './support/index.js';
import { studioApp } from './studio/index.js';
import { marketApp } from './market/index.js';
import { liveApp } from './live/index.js';

export const apps: AirwavesApp[] = [supportApp, radioApp, studioApp, marketApp, liveApp];
