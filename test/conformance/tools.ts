// Third-party clients for the conformance suite (curl, nghttp, h2load from
// Debian's curl and nghttp2-client), run as child processes with a bound.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const packages: Record<string, string> = { curl: 'curl', nghttp: 'nghttp2-client', h2load: 'nghttp2-client' };

/** Fails with the package to install when a client is missing (.ci/run installs them). */
export function requireTool(name: 'curl' | 'nghttp' | 'h2load'): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} is not installed: apt-get install -y ${packages[name]} (.ci/run does this)`);
}

export interface ToolResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs a tool to its end (or kills it after `timeoutMs`), never throwing on a non-zero exit. */
export function runTool(name: 'curl' | 'nghttp' | 'h2load', args: string[], timeoutMs = 30_000): Promise<ToolResult> {
  const path = requireTool(name);
  return new Promise((resolve) => {
    execFile(path, args, { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}
