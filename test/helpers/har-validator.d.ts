// har-validator ships no types: the one call the tests make.
declare module 'har-validator' {
  /** Resolves when `data` is a valid HAR 1.2 log; rejects with the schema errors otherwise. */
  export function har(data: unknown): Promise<unknown>;
}
