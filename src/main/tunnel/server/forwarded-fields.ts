// Who may tell the edge about the client in X-Forwarded-For, -Proto, -Host
// and the like: a TLS-terminating load balancer or proxy in front of it.
// From any other peer those fields are taken off an HTTP or WebSocket
// request before it goes on, so that the agent's account of the client (the
// address and scheme the edge saw, in X-Forwarded-For, -Proto and -Host) is
// the only one the service reads: a client cannot tell a service that
// believes the first value (Express's req.protocol, Django's
// SECURE_PROXY_SSL_HEADER), or one that prefers Forwarded (Spring) or
// X-Real-IP (chi, gin), that it came over https or from another address.
// From a trusted peer they stay, and the agent's go after them. gRPC calls
// keep theirs: no agent adds any, and metadata is the caller's.
import { BlockList, isIP } from 'node:net';
import { isForwardedField } from '../forwarded-field-names.js';

/** Peers trusted unless told otherwise: a proxy on the edge's own machine. */
export const defaultTrustedForwarders: readonly string[] = ['loopback'];

const namedRanges = new Map<string, readonly string[]>([
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']],
  ['none', []],
]);

/** Takes those fields off Node's flat list of a request's header names and values. */
export function dropForwardedFields(rawHeaders: string[]): void {
  for (let i = rawHeaders.length - 2; i >= 0; i -= 2) if (isForwardedField(rawHeaders[i]!)) rawHeaders.splice(i, 2);
}

export class ForwardedFieldTrust {
  private readonly trusted = new BlockList();

  /**
   * `specs`: addresses, CIDR ranges, `loopback`, `private` or `none`, each
   * item possibly a comma-separated list. Throws an Error naming the first
   * item that is none of these.
   */
  constructor(specs: readonly string[] = defaultTrustedForwarders) {
    const items = specs.flatMap((spec) => spec.split(',')).map((item) => item.trim());
    if (items.includes('none') && items.length > 1) throw new Error('"none" trusts no peer: it cannot be given with others');
    for (const item of items) {
      for (const range of namedRanges.get(item) ?? [item]) this.add(range);
    }
  }

  /** Whether a peer at `address` (as a socket reports it; IPv4-mapped IPv6 included) may tell who the client is. */
  trusts(address: string | undefined): boolean {
    if (address === undefined) return false;
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  private add(range: string): void {
    const [address = '', prefix, extra] = range.split('/');
    const family = isIP(address);
    const bits = family === 6 ? 128 : 32;
    const length = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (family === 0 || extra !== undefined || !(length >= 0 && length <= bits)) {
      throw new Error(`"${range}" is not an address, a CIDR range (10.0.0.0/8), loopback, private or none`);
    }
    this.trusted.addSubnet(address, length, family === 6 ? 'ipv6' : 'ipv4');
  }
}
