// Agent authentication by bearer token, compared in constant time. A token
// may be named and limited to the tunnel names it may claim ("alice",
// "alice-*"); a bare token may claim any name.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { isValidTunnelName, randomTunnelName } from '../tunnel-names.js';

export interface TokenSpec {
  token: string;
  /** Who holds it, for logs; never the secret. */
  label?: string;
  /** Name patterns this token may claim, `*` standing for any run of name characters; absent means any name. */
  names?: readonly string[];
  /** Request body limit for this token's tunnels (413 above it), within the server's own. */
  maxBodyBytes?: number;
}

/** What a presented token proves: who, and which names it may claim. */
export interface AgentIdentity {
  readonly label: string;
  /** Whether this identity may claim `name`. */
  mayClaim(name: string): boolean;
  /** A fresh name this identity may claim, or undefined when its patterns allow none. */
  randomName(): string | undefined;
  /** The patterns, for error messages. */
  readonly claims: readonly string[] | undefined;
  /** This identity's own request body limit, if it has one. */
  readonly maxBodyBytes?: number;
}

interface KnownToken {
  digest: Buffer;
  identity: AgentIdentity;
}

const anyone: AgentIdentity = { label: 'anonymous', mayClaim: () => true, randomName: randomTunnelName, claims: undefined };

export class TokenAuth {
  private readonly known: KnownToken[];

  /** With no tokens every agent is accepted (a local development server). */
  constructor(tokens: readonly (string | TokenSpec)[]) {
    this.known = tokens.map((entry, index) => {
      const spec = typeof entry === 'string' ? { token: entry } : entry;
      if (spec.token.length === 0) throw new Error(`token ${spec.label ?? index + 1} is empty`);
      const identity = identityFor(spec.label ?? `token ${index + 1}`, spec.names);
      return { digest: digest(spec.token), identity: spec.maxBodyBytes === undefined ? identity : { ...identity, maxBodyBytes: spec.maxBodyBytes } };
    });
  }

  get required(): boolean {
    return this.known.length > 0;
  }

  /** The identity a call's token proves, or undefined when it proves none. */
  identify(metadata: Metadata): AgentIdentity | undefined {
    if (!this.required) return anyone;
    const header = metadata.get('authorization')[0];
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    const candidate = digest(token);
    // Check every token so the time taken says nothing about which one matched.
    let match: AgentIdentity | undefined;
    for (const known of this.known) {
      if (timingSafeEqual(known.digest, candidate) && match === undefined) match = known.identity;
    }
    return match;
  }
}

function identityFor(label: string, names: readonly string[] | undefined): AgentIdentity {
  if (names === undefined) return { ...anyone, label };
  for (const pattern of names) {
    if (!isValidTunnelName(pattern.replaceAll('*', 'x'))) throw new Error(`token ${label}: "${pattern}" is not a tunnel name pattern`);
  }
  const patterns = names.map((pattern) => new RegExp(`^${pattern.replaceAll('*', '[a-z0-9-]*')}$`));
  const wildcards = names.filter((pattern) => pattern.includes('*'));
  return {
    label,
    claims: names,
    mayClaim: (name) => patterns.some((pattern) => pattern.test(name)),
    randomName: () => {
      // A pattern with room for a few random characters per `*` first: one
      // with room for a single one would collide after a handful of agents.
      for (const minimum of [4, 1]) {
        for (const pattern of wildcards) {
          const name = fillWildcards(pattern, minimum);
          if (name !== undefined) return name;
        }
      }
      return undefined;
    },
  };
}

const maxNameLength = 63;

/** A random name the pattern matches, each `*` up to 8 random hex characters so the name fits one DNS label. */
function fillWildcards(pattern: string, minimumPerStar: number): string | undefined {
  const parts = pattern.split('*');
  const stars = parts.length - 1;
  const room = maxNameLength - (pattern.length - stars);
  const perStar = Math.min(8, Math.floor(room / stars));
  if (perStar < minimumPerStar) return undefined;
  const name = parts.reduce((out, part, i) => out + (i === 0 ? '' : randomBytes(4).toString('hex').slice(0, perStar)) + part, '');
  return isValidTunnelName(name) ? name : undefined;
}

/** Hashing first gives equal lengths, which timingSafeEqual needs. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
