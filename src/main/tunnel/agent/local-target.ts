// Where a tunnel forwards to: "3000" (on 127.0.0.1), "host:3000" or "[::1]:3000".
import { echoed } from '../../../shared/input-echo.js';
import { formatHostPort, parseHostPort, type HostPort } from '../host-port.js';

export interface LocalTarget extends HostPort {
  /** The authority HTTP/2 names instead of host:port (a hop to another edge keeps the tunnel's host). */
  authority?: string;
}

export function parseLocalTarget(spec: string): LocalTarget {
  const trimmed = spec.trim();
  let target: LocalTarget | undefined;
  try {
    target = /^\d{1,5}$/.test(trimmed) ? { host: '127.0.0.1', port: Number(trimmed) } : parseHostPort(trimmed);
  } catch {
    target = undefined;
  }
  if (target === undefined || target.port < 1 || target.port > 65_535) {
    throw new Error(`"${echoed(spec)}" is not a local address: expected PORT or HOST:PORT (port 1-65535)`);
  }
  return target;
}

export const formatLocalTarget = formatHostPort;
