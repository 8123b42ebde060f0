/**
 * @module protocol
 * The Airwaves wire protocol v1, shared by the server, the SDK and the browser: message types,
 * channel rules, the binary frame layout and batch splitting. Imports nothing but core.
 */
export * from './messages.js';
export * from './channels.js';
export * from './binary-frame.js';
export * from './batch.js';
