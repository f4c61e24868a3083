// Tunnel names are single DNS labels; the public host is NAME.DOMAIN.
import { randomBytes } from 'node:crypto';

const labelPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isValidTunnelName(name: string): boolean {
  return labelPattern.test(name);
}

export function randomTunnelName(): string {
  return `t-${randomBytes(4).toString('hex')}`;
}

/** The tunnel name a Host header addresses under `domain`, or undefined. */
export function tunnelNameFromHost(host: string | undefined, domain: string): string | undefined {
  if (!host) return undefined;
  const hostname = host.replace(/:\d+$/, '').toLowerCase().replace(/\.$/, '');
  const suffix = `.${domain.toLowerCase()}`;
  if (!hostname.endsWith(suffix)) return undefined;
  const name = hostname.slice(0, -suffix.length);
  return isValidTunnelName(name) ? name : undefined;
}
