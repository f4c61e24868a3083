// Text logs are coloured only for a terminal, and never when the user set
// NO_COLOR (no-color.org): a terminal ignored it.
import { describe, expect, it } from 'vitest';
import { colorWanted } from '../../src/main/cli/logger.js';

describe('log colours', () => {
  it('on a terminal, unless NO_COLOR is set to anything', () => {
    expect(colorWanted(true, {})).toBe(true);
    expect(colorWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(true, { NO_COLOR: 'false' })).toBe(false);
    // Present but empty is not set, as the convention has it.
    expect(colorWanted(true, { NO_COLOR: '' })).toBe(true);
  });

  it('never off a terminal', () => {
    expect(colorWanted(false, {})).toBe(false);
  });
});
