// Agent authentication by bearer token, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';

export class TokenAuth {
  private readonly digests: Buffer[];

  /** With no tokens every agent is accepted (a local development server). */
  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get required(): boolean {
    return this.digests.length > 0;
  }

  accepts(metadata: Metadata): boolean {
    if (!this.required) return true;
    const header = metadata.get('authorization')[0];
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    const candidate = digest(token);
    // Check every token so the time taken says nothing about which one matched.
    let matched = false;
    for (const known of this.digests) matched = timingSafeEqual(known, candidate) || matched;
    return matched;
  }
}

/** Hashing first gives equal lengths, which timingSafeEqual needs. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
