// The server's logs through pino: readable lines on a terminal (text) or one
// JSON object per line (json), never a secret: tokens, Authorization and
// cookies are redacted wherever they appear in a line's fields.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'text' | 'json';
export const logFormats: readonly LogFormat[] = ['text', 'json'];
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

const secretFields = ['token', 'adminToken', 'authorization', 'cookie', 'set-cookie', 'proxy-authorization'];
/** The fields redacted at the top of a line, one level down and in headers. */
export const redactedPaths = [...secretFields, ...secretFields.map((field) => `*["${field}"]`), ...secretFields.map((field) => `headers["${field}"]`)];

export interface LoggerOptions {
  format: LogFormat;
  level: LogLevel;
  /** A file to append to; stderr when absent. */
  file?: string;
}

export function createLogger({ format, level, file }: LoggerOptions): Logger {
  // Opened once here so that a path that cannot be written is told at start, not by an error nobody listens for later.
  if (file !== undefined) checkWritable(file);
  const destination: DestinationStream =
    format === 'json'
      ? pino.destination({ dest: file ?? 2, sync: file === undefined, append: true, mkdir: true })
      : pretty({
          destination: file ?? 2,
          sync: file === undefined,
          append: true,
          mkdir: true,
          colorize: file === undefined && process.stderr.isTTY,
          translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
          ignore: 'pid,hostname',
          // A text line is its message: every line says what it means in words.
          hideObject: true,
        });
  return pino(
    {
      level,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

function checkWritable(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    closeSync(openSync(file, 'a'));
  } catch (error) {
    throw new Error(`cannot write the log file ${file}: ${(error as Error).message}`);
  }
}

/** Resolves once what was logged is written (before the process exits). */
export function flushed(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
