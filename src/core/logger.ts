/**
 * @module core/logger
 * Structured JSON logs through pino; every module takes a child logger with its own `module` field.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'airwaves'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
