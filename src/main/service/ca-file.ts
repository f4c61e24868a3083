// A CA certificate file the agent trusts the server by. Checked before it is
// read: a directory, a FIFO (which would stop the whole agent until someone
// writes to it) or /dev/zero (read for ever) gets a reason, not a hang; so
// does a file that holds no certificate.
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** A PEM bundle of a few hundred certificates is well under this. */
const maxCaFileBytes = 1024 * 1024;

/** Why `path` cannot be a CA file, or undefined when it can. */
export function caFileProblem(path: string): string | undefined {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    return `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  if (!stats.isFile()) return `${path} is not a file`;
  if (stats.size > maxCaFileBytes) return `${path} is ${stats.size} bytes, more than a CA file's ${maxCaFileBytes}`;
  // Any other file was taken, and the server's certificate then reported as untrusted, as though no --ca were given.
  const text = readFileSync(path, 'latin1');
  const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text)?.[0];
  if (first === undefined) return `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
  try {
    new X509Certificate(first);
  } catch (error) {
    return `${path}: its first certificate does not parse (${(error as Error).message})`;
  }
  return undefined;
}

/** The file's PEM text; throws with the reason it cannot be one. */
export function readCaFile(path: string): string {
  const problem = caFileProblem(path);
  if (problem !== undefined) throw new Error(problem);
  return readFileSync(path, 'utf8');
}
