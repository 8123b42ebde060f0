/**
 * @module apps
 * The apps this server hosts, in the order they start.
 */
import type { AirwavesApp } from './app.js';

export const apps: AirwavesApp[] = [];
