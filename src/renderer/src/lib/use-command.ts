// Runs a contract command from a button: busy while it runs, its error kept
// for display with the stable code, never thrown into React.
import { useCallback, useState } from 'react';

export interface CommandRunner {
  busy: boolean;
  error?: string;
  run<T>(command: () => Promise<T>): Promise<T | undefined>;
  clearError(): void;
}

export function useCommand(): CommandRunner {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async <T,>(command: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await command();
    } catch (e) {
      const err = e as Error & { code?: string };
      setError(err.code ? `${err.message} (${err.code})` : err.message);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clearError: useCallback(() => setError(undefined), []) };
}
