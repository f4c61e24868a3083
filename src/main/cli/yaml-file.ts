// Reads a YAML file that must hold a mapping, turning every failure into a
// usage error that names the file.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UsageError } from './usage-error.js';

export function readYamlMapping(path: string, expected: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let doc: unknown;
  try {
    // Required on use: the server without a tokens file never parses YAML.
    doc = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
  } catch (error) {
    // One line, as every other error: the library follows it with the lines around the fault and a caret.
    const [first = ''] = (error as Error).message.split('\n');
    throw new UsageError(`${path} is not valid YAML: ${first.replace(/:$/, '')}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`${path}: expected a mapping with ${expected}`);
  return doc as Record<string, unknown>;
}
