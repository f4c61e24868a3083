// Where a tunnel forwards to: "3000", "host:3000" or "[::1]:3000".

export interface LocalTarget {
  host: string;
  port: number;
}

export function parseLocalTarget(spec: string): LocalTarget {
  const trimmed = spec.trim();
  // A host name or IPv4 address, or a bracketed IPv6 address (with an optional zone).
  const match = /^(?:(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([A-Za-z0-9._-]+)):)?(\d{1,5})$/.exec(trimmed);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port < 1 || port > 65_535) {
    throw new Error(`"${spec}" is not a local address: expected PORT or HOST:PORT (port 1-65535)`);
  }
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port };
}

export function formatLocalTarget({ host, port }: LocalTarget): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
