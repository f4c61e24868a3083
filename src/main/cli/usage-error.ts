// Bad command-line input: the CLI prints it with usage and exits 2.
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
    const match = /^(?:\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
    if (match === null || Number(match[1]) > 65_535) throw new UsageError(`${flag} must be HOST:PORT, got "${value}"`);
    return value;
  };
}
