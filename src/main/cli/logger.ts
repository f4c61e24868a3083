// The server's logs through pino: readable lines on a terminal (text) or one
// JSON object per line (json), never a secret: tokens, Authorization and
// cookies are redacted wherever they appear in a line's fields.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { UsageError } from './usage-error.js';

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

/** Colours on a terminal, unless NO_COLOR is set to anything but nothing (no-color.org). */
export function colorWanted(isTerminal: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTerminal && (env.NO_COLOR ?? '') === '';
}

export function createLogger({ format, level, file }: LoggerOptions): Logger {
  // Opened once here so that a path that cannot be written is told at start, not by an error nobody listens for later.
  if (file !== undefined) checkWritable(file);
  const sink = file === undefined ? pino.destination({ dest: 2, sync: true }) : fileSink(file);
  const destination: DestinationStream =
    format === 'json'
      ? sink
      : prettyLines(
          prettyFactory({
            colorize: file === undefined && colorWanted(process.stderr.isTTY),
            translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
            ignore: 'pid,hostname',
            // A text line is its message: every line says what it means in words.
            hideObject: true,
          }),
          sink,
        );
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

/** Lines a file cannot take yet (a full disk) wait in memory up to this; later ones are dropped. */
const maxWaitingLogBytes = 16 * 1024 * 1024;

/**
 * A log file, written in the background. A write that fails (a full disk)
 * is told once on stderr, and its lines wait for the next write to try
 * again: unheard, the error stopped the server answering, then hung its exit.
 */
function fileSink(file: string): Sink {
  const sink = pino.destination({ dest: file, sync: false, append: true, mkdir: true, maxLength: maxWaitingLogBytes });
  let failing = false;
  sink.on('error', (error: NodeJS.ErrnoException) => {
    if (failing) return;
    failing = true;
    process.stderr.write(`burrow: cannot write the log file ${file} (${error.code ?? error.message}); its lines wait, up to ${maxWaitingLogBytes / 1024 / 1024} MiB, until it can be written\n`);
  });
  sink.on('write', () => {
    if (!failing) return;
    failing = false;
    process.stderr.write(`burrow: the log file ${file} is written again\n`);
  });
  // pino flushes at exit through this, which retries a failing write for ever: the lines still waiting then are given up.
  const flushSync = sink.flushSync.bind(sink);
  sink.flushSync = () => failing || flushSync();
  return sink;
}

type Sink = ReturnType<typeof pino.destination>;

/** Each JSON line pino writes, as `pretty` words it, on to `sink`; flushed with it. */
const prettyLines = (pretty: (line: string) => string, sink: Sink): DestinationStream & Pick<Sink, 'flush'> => ({
  write: (line: string) => sink.write(pretty(line)),
  flush: (done) => sink.flush(done),
});

function checkWritable(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    closeSync(openSync(file, 'a'));
  } catch (error) {
    // A bad argument, as an unreadable --tokens-file or --tls-cert is: exit 2.
    throw new UsageError(`cannot write the log file ${file}: ${(error as Error).message}`);
  }
}

/** Resolves once what was logged is written (before the process exits). */
export function flushed(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
