// A value from outside as an error message names it. Messages echoed whole
// what they refused (an unknown command name of 100 MB came back in full),
// and String() of an array nested 100,000 deep overflowed the stack.

/** Characters of a refused string an error message repeats. */
const maxEchoedChars = 80;

/** `value` short enough to read, and never walked into. */
export function echoed(value: unknown): string {
  if (typeof value === 'string') return value.length <= maxEchoedChars ? value : `${value.slice(0, maxEchoedChars)}… (${value.length} characters)`;
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'a list' : `a value of type ${typeof value}`;
}
