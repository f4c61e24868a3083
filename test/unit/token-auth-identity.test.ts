// TokenAuth beyond token-auth.test.ts: construction errors, how the bearer
// header is read, labels, body limits, and claims for every kind of pattern.
import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { TokenAuth } from '../../src/main/tunnel/server/token-auth.js';
import { isValidTunnelName } from '../../src/main/tunnel/tunnel-names.js';

const withAuthorization = (value: string): Metadata => {
  const metadata = new Metadata();
  metadata.set('authorization', value);
  return metadata;
};
const bearer = (token: string): Metadata => withAuthorization(`Bearer ${token}`);

describe('TokenAuth construction', () => {
  it('requires a token only when it has some', () => {
    expect(new TokenAuth([]).required).toBe(false);
    expect(new TokenAuth(['t']).required).toBe(true);
    expect(new TokenAuth([{ token: 't', names: ['a'] }]).required).toBe(true);
  });

  it('refuses an empty token, naming it by label or by position', () => {
    expect(() => new TokenAuth(['ok', ''])).toThrow('token 2 is empty');
    expect(() => new TokenAuth([{ token: '', label: 'bob' }])).toThrow('token bob is empty');
  });

  it.each(['', 'Alice', 'a_b', 'a.b', 'a b', '-*', '*-', '-', 'a.*', '(a|b)', '[a-z]*', 'a+', '^a', 'a$', '?', 'a'.repeat(64)])(
    'refuses the name pattern %j, saying which token and which pattern',
    (pattern) => {
      expect(() => new TokenAuth([{ token: 't', label: 'carol', names: ['ok', pattern] }])).toThrow(
        `token carol: "${pattern}" is not a tunnel name pattern`,
      );
    },
  );

  it.each<[string, string[], string[]]>([
    ['alice', ['alice'], ['alice-1', 'bob']],
    ['*', ['a', 'x-1'], []],
    ['alice-*', ['alice-1', 'alice-x-y'], ['alice', 'bob-1']],
    ['a*b', ['ab', 'axxb'], ['a', 'ba']],
    ['*-ci', ['main-ci', 'x-y-ci'], ['ci', 'main-cd']],
    ['a*b*c', ['abc', 'a1b2c'], ['acb', 'ab']],
    ['x-*-y', ['x-1-y'], ['x-y', 'x--y-z']],
  ])('accepts the name pattern %j and lets it claim exactly what it matches', (pattern, claimable, refused) => {
    const identity = new TokenAuth([{ token: 'secret', names: [pattern] }]).identify(bearer('secret'))!;
    expect(claimable.map((name) => identity.mayClaim(name))).toEqual(claimable.map(() => true));
    expect(refused.map((name) => identity.mayClaim(name))).toEqual(refused.map(() => false));
  });
});

describe('TokenAuth.identify', () => {
  const auth = new TokenAuth(['first-secret', { token: 'second secret with spaces', label: 'ci' }, 'third-secret']);

  it('labels unnamed tokens by their position in the list', () => {
    expect(auth.identify(bearer('first-secret'))?.label).toBe('token 1');
    expect(auth.identify(bearer('second secret with spaces'))?.label).toBe('ci');
    expect(auth.identify(bearer('third-secret'))?.label).toBe('token 3');
  });

  it.each([
    ['no header', new Metadata()],
    ['an empty header', withAuthorization('')],
    ['no scheme', withAuthorization('first-secret')],
    ['a lowercase scheme', withAuthorization('bearer first-secret')],
    ['another scheme', withAuthorization('Basic first-secret')],
    ['two spaces', withAuthorization('Bearer  first-secret')],
    ['a trailing space', withAuthorization('Bearer first-secret ')],
    ['an empty bearer token', withAuthorization('Bearer ')],
    ['a prefix of a token', bearer('first-secre')],
    ['a token with more on the end', bearer('first-secretX')],
    ['a token in other case', bearer('FIRST-SECRET')],
    ['part of a token with spaces', bearer('second secret')],
  ])('proves no one with %s', (_what, metadata) => {
    expect(auth.identify(metadata)).toBeUndefined();
  });

  it('takes the first of several authorization values', () => {
    const metadata = bearer('first-secret');
    metadata.add('authorization', 'Bearer third-secret');
    expect(auth.identify(metadata)?.label).toBe('token 1');
  });

  it('gives the first matching entry when a token is listed twice', () => {
    const twice = new TokenAuth([
      { token: 'same', label: 'earlier', names: ['a'] },
      { token: 'same', label: 'later' },
    ]);
    const identity = twice.identify(bearer('same'))!;
    expect(identity.label).toBe('earlier');
    expect(identity.mayClaim('b')).toBe(false);
  });

  it('accepts anyone, as "anonymous" free to claim any name, when it has no tokens', () => {
    const identity = new TokenAuth([]).identify(withAuthorization('Bearer whatever'))!;
    expect(identity.label).toBe('anonymous');
    expect(identity.claims).toBeUndefined();
    expect(identity.mayClaim('anything-at-all')).toBe(true);
    expect(isValidTunnelName(identity.randomName()!)).toBe(true);
  });
});

describe('AgentIdentity', () => {
  it('carries its own body limit only when the token has one', () => {
    const auth = new TokenAuth([
      { token: 'limited', maxBodyBytes: 1_048_576, names: ['ci-*'] },
      { token: 'bare-limited', maxBodyBytes: 10 },
      'unlimited',
    ]);
    const limited = auth.identify(bearer('limited'))!;
    expect(limited.maxBodyBytes).toBe(1_048_576);
    expect(limited.mayClaim('ci-1')).toBe(true); // the limit does not lose the claims
    expect(limited.claims).toEqual(['ci-*']);
    expect(auth.identify(bearer('bare-limited'))!.maxBodyBytes).toBe(10);
    expect(auth.identify(bearer('unlimited'))!.maxBodyBytes).toBeUndefined();
  });

  it('a token without names may claim any name and has no claim list', () => {
    const identity = new TokenAuth([{ token: 't', label: 'admin' }]).identify(bearer('t'))!;
    expect(identity.label).toBe('admin');
    expect(identity.claims).toBeUndefined();
    expect(['a', 'web', 't-12345678'].every(identity.mayClaim)).toBe(true);
    expect(identity.randomName()).toMatch(/^t-[0-9a-f]{8}$/);
  });

  it('a token with an empty name list may claim nothing', () => {
    const identity = new TokenAuth([{ token: 't', names: [] }]).identify(bearer('t'))!;
    expect(identity.claims).toEqual([]);
    expect(identity.mayClaim('web')).toBe(false);
    expect(identity.randomName()).toBeUndefined();
  });

  it.each([
    { pattern: 'web', yes: ['web'], no: ['we', 'webs', 'aweb', 'web-1', 'WEB'] },
    { pattern: '*', yes: ['a', 'web', 'a-b', '0'], no: ['A', 'a.b', 'a_b'] },
    { pattern: 'team-*', yes: ['team-', 'team-a', 'team-a-b', 'team-123'], no: ['team', 'teamx', 'xteam-a', 'team-A', 'team-a.b'] },
    { pattern: 'a*b', yes: ['ab', 'a-b', 'axyzb'], no: ['a', 'b', 'ba', 'abc', 'xab'] },
    { pattern: '*-ci', yes: ['x-ci', '-ci', 'a-b-ci'], no: ['ci', 'x-cix', 'x-c'] },
    { pattern: 'a*b*c', yes: ['abc', 'a1b2c', 'axxbc'], no: ['ab', 'bc', 'acb'] },
  ])('pattern $pattern matches whole names only', ({ pattern, yes, no }) => {
    const identity = new TokenAuth([{ token: 't', names: [pattern] }]).identify(bearer('t'))!;
    expect(yes.filter((name) => !identity.mayClaim(name))).toEqual([]);
    expect(no.filter((name) => identity.mayClaim(name))).toEqual([]);
  });

  it('may claim a name that any one of its patterns allows', () => {
    const identity = new TokenAuth([{ token: 't', names: ['alice', 'alice-*', 'shared'] }]).identify(bearer('t'))!;
    expect(['alice', 'alice-x', 'shared'].map(identity.mayClaim)).toEqual([true, true, true]);
    expect(['bob', 'shared-1'].map(identity.mayClaim)).toEqual([false, false]);
  });

  it.each([
    { names: ['*'], prefix: '' },
    { names: ['ci-*'], prefix: 'ci-' },
    { names: ['exact', 'team-*'], prefix: 'team-' },
    { names: ['a*b*c'], prefix: 'a' },
    { names: ['*-preview'], prefix: '' },
    { names: ['*-*'], prefix: '' },
    // Room for 4 random hex characters only: 65,536 names, so 50 picks may repeat one (about 2% of runs).
    { names: [`${'p'.repeat(58)}-*`], prefix: `${'p'.repeat(58)}-`, tight: true },
    { names: [`${'q'.repeat(55)}*`], prefix: 'q'.repeat(55) },
  ])('random names for $names are valid, fresh and claimable', ({ names, prefix, tight }: { names: string[]; prefix: string; tight?: boolean }) => {
    const identity = new TokenAuth([{ token: 't', names }]).identify(bearer('t'))!;
    const picked = Array.from({ length: 50 }, () => identity.randomName());
    for (const name of picked) {
      expect(name).toBeDefined();
      expect(name!.startsWith(prefix)).toBe(true);
      expect(isValidTunnelName(name!)).toBe(true);
      expect(identity.mayClaim(name!)).toBe(true);
    }
    // 32 random bits per name: 50 picks repeat one about once in three million runs.
    if (!tight) expect(new Set(picked).size).toBe(picked.length);
    else expect(new Set(picked).size).toBeGreaterThanOrEqual(picked.length - 5);
  });

  it('has no random name when every pattern is exact', () => {
    const identity = new TokenAuth([{ token: 't', names: ['one', 'two'] }]).identify(bearer('t'))!;
    expect(identity.randomName()).toBeUndefined();
  });

  it('prefers a pattern with room for a random part, and fills a tight one only as a last resort', () => {
    const tight = `${'r'.repeat(61)}-*`;
    const both = new TokenAuth([{ token: 't', names: [tight, 'next-*'] }]).identify(bearer('t'))!;
    expect(both.randomName()).toMatch(/^next-[0-9a-f]{8}$/);
    const only = new TokenAuth([{ token: 't', names: [tight] }]).identify(bearer('t'))!;
    expect(only.randomName()).toMatch(new RegExp(`^${tight.slice(0, -1)}[0-9a-f]$`));
  });
});
