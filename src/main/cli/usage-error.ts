// Bad command-line input: the CLI prints it with usage and exits 2.
import { isHostPort } from '../tunnel/host-port.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function positiveInteger(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
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
