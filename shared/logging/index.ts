/**
 * Structured JSON logs (pino) on stdout, one object per line. Secrets that could ride along
 * in logged objects (auth headers, keys) are redacted.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from '../config/schema.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Names the process in every line (edge, worker, ...). */
  name?: string;
  /** Where lines go (default stdout); tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(config: { logLevel: LogLevel }, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: config.logLevel,
      ...(options.name ? { name: options.name } : {}),
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'apiKeys', 'config.apiKeys', '*.apiKeys'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
