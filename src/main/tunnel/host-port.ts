// HOST:PORT addresses, read the same way everywhere (CLI flags, config
// files, settings, listeners): a host name, an IPv4 address or a bracketed
// IPv6 address (with an optional zone), a colon, and a port 0-65535.

export interface HostPort {
  host: string;
  port: number;
}

const hostPortPattern = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/;

/** Throws an Error naming what was expected. */
export function parseHostPort(address: string): HostPort {
  const match = hostPortPattern.exec(address.trim());
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65_535) throw new Error(`expected HOST:PORT (port 0-65535), got "${address}"`);
  return { host: match[1] ?? match[2]!, port };
}

export function isHostPort(address: string): boolean {
  try {
    parseHostPort(address);
    return true;
  } catch {
    return false;
  }
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "a:1, b:2" reads as two addresses (a cluster's edges); empty parts are dropped. */
export function addressList(text: string): string[] {
  return text
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
}
