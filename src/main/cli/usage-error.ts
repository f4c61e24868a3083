// Bad command-line input: the CLI prints it with usage and exits 2.
import { isHostPort } from '../tunnel/host-port.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A whole number from `min` to `max`: past what a timer, an HTTP/2 setting or the tunnel's messages can hold, a flag would break the server later. */
export function positiveInteger(flag: string, max = Number.MAX_SAFE_INTEGER, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
    if (n < min || n > max) throw new UsageError(`${flag} must be from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/** A whole number from 0 to `max`: for a flag whose 0 means none (the default). */
export function wholeNumber(flag: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > max || value.trim() === '') throw new UsageError(`${flag} must be a whole number from 0 to ${max}, got "${value}"`);
    return n;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function hostPort(flag: string) {
  return (value: string): string => {
    if (!isHostPort(value)) throw new UsageError(`${flag} must be HOST:PORT, got "${value}"`);
    return value;
  };
}

/** A DNS name of one or more labels (`localhost`, `tunnels.example.com`): tunnels are served as NAME.DOMAIN, and --dev-tls names its files after it. */
export function domainName(flag: string) {
  return (value: string): string => {
    const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
    if (value.length > 253 || !value.split('.').every((part) => label.test(part))) throw new UsageError(`${flag} must be a domain name such as tunnels.example.com, got "${value}"`);
    return value.toLowerCase();
  };
}
