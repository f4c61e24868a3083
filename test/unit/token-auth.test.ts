// Token identities: which token proves whom, and which names each may claim.
import { Metadata } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenAuth } from '../../src/main/tunnel/server/token-auth.js';
import { isValidTunnelName } from '../../src/main/tunnel/tunnel-names.js';

const bearer = (token: string): Metadata => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};

describe('TokenAuth', () => {
  const auth = new TokenAuth([{ label: 'alice', token: 'alice-secret', names: ['alice', 'alice-*'] }, 'bare-secret']);

  it('identifies each token, and no one for a wrong or missing one', () => {
    expect(auth.identify(bearer('alice-secret'))?.label).toBe('alice');
    expect(auth.identify(bearer('bare-secret'))?.label).toBe('token 2');
    expect(auth.identify(bearer('alice-secre'))).toBeUndefined();
    expect(auth.identify(new Metadata())).toBeUndefined();
    expect(new TokenAuth([]).identify(new Metadata())?.label).toBe('anonymous');
  });

  it('matches claims exactly or by pattern, never by prefix alone', () => {
    const alice = auth.identify(bearer('alice-secret'))!;
    expect(['alice', 'alice-web', 'alice-'].map(alice.mayClaim)).toEqual([true, true, true]);
    expect(['bob', 'alicex', 'xalice', 'malice-web'].map(alice.mayClaim)).toEqual([false, false, false, false]);
    expect(auth.identify(bearer('bare-secret'))!.mayClaim('anything')).toBe(true);
  });

  it('picks random names inside the pattern, always valid', () => {
    const alice = auth.identify(bearer('alice-secret'))!;
    fc.assert(
      fc.property(fc.constant(null), () => {
        const name = alice.randomName();
        return name !== undefined && isValidTunnelName(name) && alice.mayClaim(name);
      }),
      { numRuns: 200 },
    );
    const exactOnly = new TokenAuth([{ token: 'x-secret', names: ['only'] }]).identify(bearer('x-secret'))!;
    expect(exactOnly.randomName()).toBeUndefined();
  });
});
