// In a cluster, a public request for a tunnel this edge holds no stream for
// goes on, once, to an edge that does. The hop reuses the agent's own
// exchanges (local-exchanges.ts) with the other edge's public port as the
// "local service": streaming, credit, WebSocket frames and gRPC trailers
// behave exactly as through a tunnel. The edge is picked by connecting to
// it first, so one that died a moment ago is passed over rather than
// failing the request. The hop is marked with a header only edges can make
// (an HMAC with the cluster's shared secret); an edge that receives it never
// forwards again, and no agent ever sees it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { connect } from 'node:net';
import { ProtocolType, type ConfigSync, type Header, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { LocalExchanges, type DataLink } from '../agent/local-exchanges.js';
import type { LocalTarget } from '../agent/local-target.js';
import { ErrorCode } from '../errors.js';
import type { Exchange } from '../exchange.js';
import { rawHeaderValue } from '../headers.js';
import { parseHostPort } from '../host-port.js';
import { IdMap } from '../id-map.js';
import { resetMessage } from '../messages.js';
import type { EdgeRecord } from './edge-cluster.js';
import type { TunnelRoute } from './tunnel-route.js';

export const edgeHopHeader = 'x-burrow-edge-hop';

/** A request another edge of the cluster forwarded: its trace, and the public client as that edge saw it. */
export interface EdgeHop {
  traceId: string;
  client?: { address: string; scheme: string };
  /** The forwarding edge took off the X-Forwarded-* fields of a client it does not trust (forwarded-fields.ts); edges before 2026-12-03 did not. */
  vouched: boolean;
  /** The client's HTTP version ("1.1", "2.0"), as the forwarding edge saw it; edges before 2026-12-04 did not say. */
  httpVersion?: string;
}

/** What a forwarding edge's mark says. */
interface HopMark {
  traceId: string;
  toldClient: boolean;
  vouched: boolean;
  httpVersion?: string;
}

/** The mark's fourth word: the request's last X-Forwarded-* fields are the forwarding edge's. */
const toldClientWord = 'client';
/** A word after the third: the forwarding edge vouches for the X-Forwarded-* fields before its own (EdgeHop.vouched). */
const vouchedWord = 'vouched';
/** A word after the third: the client's HTTP version ("http/2.0"), since the hop between edges has its own. */
const httpVersionWord = /^http\/(\d\.\d)$/;

/** How long to wait for an edge to accept a connection before trying the next one (then taken if none accepts). */
const connectTimeoutMs = 1_000;

export interface EdgeForwarderOptions {
  /** This edge's advertised address. */
  self(): string;
  /** The cluster's shared secret. */
  secret(): string;
  config: ConfigSync;
  maxWebSocketMessageBytes: number;
  /** HTTP/1.1 connections to each other edge at most: many, since the hop carries every client's requests (tunnel-server.ts). */
  maxConnectionsPerEdge: number;
}

export class EdgeForwarder {
  /** Public exchanges being forwarded, by request id. */
  private readonly exchanges = new IdMap<Exchange>();
  /** The edge each forwarded request went to. */
  private readonly peers = new IdMap<LocalTarget>();
  /** Messages of a request whose edge is still being picked, in order. */
  private readonly waiting = new IdMap<TunnelMessage[]>();
  private readonly toEdges: LocalExchanges;
  private readonly link: DataLink;

  constructor(private readonly options: EdgeForwarderOptions) {
    this.toEdges = new LocalExchanges(
      (_tunnel, requestId) => this.peers.get(requestId),
      () => {},
      options.maxConnectionsPerEdge,
    );
    this.link = {
      // What the other edge answers goes to the public exchange, a turn later as if from the network.
      send: (message) => {
        const answer = asHopFailure(message);
        queueMicrotask(() => this.exchanges.get(message.requestId)?.receive(answer));
        return true;
      },
      windowBytes: options.config.initialWindowBytes,
      maxWebSocketMessageBytes: options.maxWebSocketMessageBytes,
      // Answers go to this edge's own public exchanges, which take them.
      takesInterimResponses: true,
      takesContinue: true,
      // This edge applied its trust rule before it forwarded.
      vouchesForwardedFields: true,
    };
  }

  /** A route for one request to whichever of `edges` answers first. */
  routeTo(edges: readonly EdgeRecord[]): TunnelRoute {
    return {
      identity: {},
      config: this.options.config,
      // The other edge gets the request from this edge's own agent-side exchanges, which relay it.
      relaysContinue: true,
      windowBytes: this.options.config.initialWindowBytes,
      send: (message) => {
        this.send(message, edges);
        return true;
      },
      track: (exchange) => this.exchanges.set(exchange.requestId, exchange),
      forget: (exchange) => {
        if (this.exchanges.get(exchange.requestId) !== exchange) return;
        this.exchanges.delete(exchange.requestId);
        this.peers.delete(exchange.requestId);
        this.waiting.delete(exchange.requestId);
      },
    };
  }

  /**
   * When the request came from another edge of the cluster (it is not to be
   * forwarded again): the trace id it goes by there ('' if none); undefined
   * otherwise. The mark is taken off the request either way: a client cannot
   * forge it, and no agent sees it.
   */
  arrivedFromEdge(rawHeaders: string[], headers: Record<string, unknown>): EdgeHop | undefined {
    let proof: HopMark | undefined;
    for (let i = rawHeaders.length - 2; i >= 0; i -= 2) {
      if (rawHeaders[i]!.toLowerCase() !== edgeHopHeader) continue;
      proof ??= this.proven(rawHeaders[i + 1]!);
      rawHeaders.splice(i, 2);
    }
    delete headers[edgeHopHeader];
    if (proof === undefined) return undefined;
    const { traceId, vouched, httpVersion } = proof;
    if (!proof.toldClient) return { traceId, vouched, httpVersion };
    // The forwarding edge told who the client is as an agent tells a service
    // (its mark says so), after the client's own fields: the last of each are
    // its own. Taken off, so that the service sees them once, as from the
    // holding edge alone.
    const address = takeLast(rawHeaders, 'x-forwarded-for');
    const scheme = takeLast(rawHeaders, 'x-forwarded-proto');
    const host = lastFieldAt(rawHeaders, 'x-forwarded-host');
    if (host >= 0 && rawHeaders[host + 1] === rawHeaderValue(rawHeaders, 'host')) rawHeaders.splice(host, 2);
    return { traceId, vouched, httpVersion, client: address === undefined ? undefined : { address, scheme: scheme ?? 'http' } };
  }

  /** Public exchanges being forwarded now. */
  inFlight(): Exchange[] {
    return [...this.exchanges.values()];
  }

  close(): void {
    this.toEdges.abortAll(ErrorCode.TunnelOffline, 'the edge is stopping');
    this.toEdges.close();
  }

  private send(message: TunnelMessage, edges: readonly EdgeRecord[]): void {
    const { requestId } = message;
    const queued = this.waiting.get(requestId);
    if (queued !== undefined) {
      queued.push(message);
      return;
    }
    if (message.payload?.$case !== 'requestHead') {
      queueMicrotask(() => this.toEdges.receive(message, this.link));
      return;
    }
    const head = message.payload.value;
    // HTTP and WebSocket requests go on as an agent sends them, with X-Forwarded-* naming the client; gRPC ones without.
    const toldClient = message.protocolType === ProtocolType.PROTOCOL_TYPE_HTTP || message.protocolType === ProtocolType.PROTOCOL_TYPE_WEBSOCKET;
    head.headers = [...head.headers.filter((h) => h.name.toLowerCase() !== edgeHopHeader), this.mark(message.traceId, toldClient, head.httpVersion)];
    this.waiting.set(requestId, [message]);
    void firstReachable(edges).then((peer) => {
      const messages = this.waiting.get(requestId);
      this.waiting.delete(requestId);
      if (messages === undefined) return;
      if (peer === undefined) {
        const names = edges.map((edge) => edge.advertise).join(', ');
        this.link.send(resetMessage(requestId, message.protocolType, ErrorCode.TunnelOffline, `tunnel ${head.tunnel}: no edge serving it answered (${names})`));
        return;
      }
      // HTTP/2 names the tunnel's host as :authority, as the client did; HTTP/1.1 keeps its Host header.
      const host = head.headers.find((h) => h.name.toLowerCase() === 'host')?.value;
      this.peers.set(requestId, host === undefined ? peer : { host: peer.host, port: peer.port, authority: host });
      for (const each of messages) this.toEdges.receive(each, this.link);
    });
  }

  /**
   * "EDGE SIGNATURE TRACE [client] vouched [http/VERSION]": who forwarded,
   * proof it is an edge, the trace the request goes on in ('-' for none),
   * whether its last X-Forwarded-* fields are this edge's account of the
   * client, that those before them passed this edge's trust rule, and the
   * client's HTTP version. (Edges before the fourth word read the first
   * three; before the vouched word, the first four; and the version is
   * ignored before it was sent.)
   */
  private mark(traceId: string, toldClient: boolean, httpVersion: string): Header {
    const self = this.options.self();
    const version = httpVersionWord.test(`http/${httpVersion}`) ? ` http/${httpVersion}` : '';
    return { name: edgeHopHeader, value: `${self} ${sign(this.options.secret(), self)} ${traceId || '-'}${toldClient ? ` ${toldClientWord}` : ''} ${vouchedWord}${version}` };
  }

  /** What a mark an edge made says; undefined for any other. */
  private proven(value: string): HopMark | undefined {
    const [edge, signature, traceId = '', ...flags] = value.trim().split(/\s+/);
    const secret = this.options.secret();
    if (edge === undefined || signature === undefined || secret === '') return undefined;
    const expected = Buffer.from(sign(secret, edge));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    // The client word stays fourth: edges before the vouched word read that one only.
    let httpVersion: string | undefined;
    for (const flag of flags) httpVersion = httpVersionWord.exec(flag)?.[1] ?? httpVersion;
    return { traceId: /^[\da-f]{32}$/.test(traceId) ? traceId : '', toldClient: flags[0] === toldClientWord, vouched: flags.includes(vouchedWord), httpVersion };
  }
}

/** How the agent's exchanges begin the words of a failure of their local service. */
const localServiceWords = 'local service at ';

/**
 * The hop's own failure (the other edge refused, reset or lost), which the
 * agent's exchanges word as their local service's: the user's service was
 * never reached, so the client hears of the edge holding the tunnel, as the
 * tunnel gone offline. A failing service behind that edge answers through
 * it, as it would directly at it.
 */
export function asHopFailure(message: TunnelMessage): TunnelMessage {
  const reset = message.payload?.$case === 'reset' ? message.payload.value : undefined;
  if (reset === undefined || !reset.message.startsWith(localServiceWords)) return message;
  const code = reset.code === ErrorCode.LocalUnreachable || reset.code === ErrorCode.LocalFailed ? ErrorCode.TunnelOffline : reset.code;
  return resetMessage(message.requestId, message.protocolType, code, `the edge holding the tunnel, at ${reset.message.slice(localServiceWords.length)}`, reset.http2ErrorCode);
}

/** Where the last field named `name` (lower case) is in Node's flat list; -1 if none. */
function lastFieldAt(rawHeaders: readonly string[], name: string): number {
  return rawHeaders.findLastIndex((field, i) => i % 2 === 0 && field.toLowerCase() === name);
}

/** Takes off the last field named `name` (lower case); its value. */
function takeLast(rawHeaders: string[], name: string): string | undefined {
  const at = lastFieldAt(rawHeaders, name);
  if (at < 0) return undefined;
  const [, value] = rawHeaders.splice(at, 2);
  return value;
}

function sign(secret: string, edge: string): string {
  return createHmac('sha256', secret).update(`burrow edge hop ${edge}`).digest('hex');
}

/**
 * The public address of the first of `edges`, in random order, that
 * accepts a connection; failing that, of one that neither accepted nor
 * refused in time. An edge under load can take over a second to accept
 * (its backlog full): that is a busy edge, not a gone one, and the hop's
 * own connection waits longer (a burst of forwarded requests got 502s from
 * a healthy edge).
 */
export async function firstReachable(edges: readonly EdgeRecord[]): Promise<LocalTarget | undefined> {
  const shuffled = [...edges].sort(() => Math.random() - 0.5);
  let slow: LocalTarget | undefined;
  for (const edge of shuffled) {
    const target = { host: parseHostPort(edge.advertise).host, port: edge.publicPort };
    const reach = await probe(target);
    if (reach === 'accepted') return target;
    if (reach === 'slow') slow ??= target;
  }
  return slow;
}

type Reach = 'accepted' | 'refused' | 'slow';

/** Probes under way, by address: the requests of a burst share one (each made a connection of its own, which loaded the edge further). */
const probes = new Map<string, Promise<Reach>>();

function probe(target: LocalTarget): Promise<Reach> {
  const key = `${target.host}:${target.port}`;
  let pending = probes.get(key);
  if (pending === undefined) {
    pending = connects(target).finally(() => probes.delete(key));
    probes.set(key, pending);
  }
  return pending;
}

function connects({ host, port }: LocalTarget): Promise<Reach> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reach: Reach): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reach);
    };
    const timer = setTimeout(() => done('slow'), connectTimeoutMs);
    socket.once('connect', () => done('accepted'));
    socket.once('error', () => done('refused'));
  });
}
