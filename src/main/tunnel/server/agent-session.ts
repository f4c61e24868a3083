// The server's view of one connected agent: its control and data streams,
// the tunnels it owns and the requests in flight on it. It is the peer of
// every public exchange for its tunnels. Its data stream is one Proxy call,
// or two (a downlink and an uplink, see data-direction.ts).
import * as grpc from '@grpc/grpc-js';
import { ProtocolType, type ConfigSync, type Heartbeat, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { CoalescingWriter } from '../coalescing-writer.js';
import type { DataDirection } from '../data-direction.js';
import { ErrorCode } from '../errors.js';
import { Heartbeats } from '../heartbeats.js';
import { IdMap } from '../id-map.js';
import { controlMessage, resetMessage } from '../messages.js';
import { installInPlaceFraming } from '../patches/grpc-in-place-framing.js';
import { malformedReason } from '../tunnel-codec.js';
import type { Exchange, TunnelPeer } from '../exchange.js';
import type { AgentIdentity } from './token-auth.js';

type Call = grpc.ServerDuplexStream<TunnelMessage, TunnelMessage>;

/** The calls a data stream is made of: the one the server writes on, and the one it reads (the same call for both directions). */
interface DataCalls {
  down: Call;
  up: Call;
}

/** Half of a data stream, waiting for the call of the other direction. */
interface DataHalf {
  call: Call;
  direction: 'downlink' | 'uplink';
  link: string;
}

/** 'reattached': a data stream again after one was lost, the control stream staying up. */
export type DataStreamEvent = 'attached' | 'reattached' | 'lost';

export interface AgentSessionHooks {
  closed(session: AgentSession, reason: string): void;
  /** The agent went silent past the heartbeat timeout: the connections its calls came on (call.getPeer()) are dead. */
  silent(peers: string[]): void;
  roundTrip(ms: number): void;
  dataStream(event: DataStreamEvent): void;
}

export class AgentSession implements TunnelPeer {
  readonly tunnels = new Set<string>();
  readonly exchanges = new IdMap<Exchange>();
  private data: DataCalls | undefined;
  private dataWriter: CoalescingWriter | undefined;
  private half: DataHalf | undefined;
  private readonly heartbeats: Heartbeats;
  /** The last heartbeat round trip to the agent, in ms (undefined until one is measured). */
  roundTripMs: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private dataStreamsAttached = 0;

  constructor(
    readonly id: string,
    readonly agentId: string,
    /** Hello.relays_continue: the agent passes Expect: 100-continue on to the service. */
    readonly relaysContinue: boolean,
    readonly identity: AgentIdentity,
    private readonly control: Call,
    readonly config: ConfigSync,
    private readonly hooks: AgentSessionHooks,
  ) {
    this.heartbeats = new Heartbeats(
      (heartbeat) => this.sendControl(controlMessage({ $case: 'heartbeat', value: heartbeat })),
      config.heartbeatIntervalMs,
      (ms) => {
        this.roundTripMs = ms;
        hooks.roundTrip(ms);
      },
    );
    this.noteControlActivity();
  }

  get windowBytes(): number {
    return this.config.initialWindowBytes;
  }

  get sendsGathered(): boolean {
    return installInPlaceFraming().serverGathered;
  }

  get hasDataStream(): boolean {
    return this.data !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts heartbeats, after the Welcome. */
  startHeartbeats(): void {
    if (!this.closed) this.heartbeats.start();
  }

  /** A heartbeat from the agent: answered, or a round trip measured. */
  heartbeatReceived(heartbeat: Heartbeat): void {
    this.heartbeats.received(heartbeat);
  }

  /** Any control message proves the agent alive; silence past the timeout ends the session. */
  noteControlActivity(): void {
    if (this.closed) return;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.timedOut(), this.config.heartbeatTimeoutMs);
    this.watchdog.unref();
  }

  sendControl(message: TunnelMessage): void {
    if (!this.closed) this.control.write(message);
  }

  /** Tracks a public exchange until it ends. */
  track(exchange: Exchange): void {
    this.exchanges.set(exchange.requestId, exchange);
  }

  forget(exchange: Exchange): void {
    if (this.exchanges.get(exchange.requestId) === exchange) this.exchanges.delete(exchange.requestId);
  }

  /** False when no data stream is up: the caller fails the request. */
  send(message: TunnelMessage): boolean {
    if (this.dataWriter === undefined) return false;
    this.dataWriter.write(message);
    return true;
  }

  /**
   * A Proxy call of this session's agent: a whole data stream, or half of one
   * (`link` pairs a downlink with its uplink), kept until the other half comes.
   */
  attachProxy(call: Call, direction: DataDirection, link = ''): void {
    if (direction === 'both') {
      this.attachData({ down: call, up: call });
      return;
    }
    const half = this.half;
    if (half !== undefined && half.link === link && half.direction !== direction) {
      this.half = undefined;
      this.attachData(direction === 'downlink' ? { down: call, up: half.call } : { down: half.call, up: call });
      return;
    }
    // A half of an older pair waits no longer: its agent has moved on.
    if (half !== undefined) endCall(half.call);
    this.half = { call, direction, link };
    const gone = (): void => {
      if (this.half?.call === call) this.half = undefined;
    };
    call.once('error', gone);
    call.once('cancelled', gone);
    call.once('end', gone);
  }

  /** Ends the data stream only; the agent reopens it over the live control stream. */
  dropDataStream(): void {
    // The call's 'error' listener (see attachData) detaches it.
    this.data?.down.emit('error', { code: grpc.status.UNAVAILABLE, details: 'data stream dropped by the server' });
  }

  private timedOut(): void {
    const calls = [this.control, this.data?.down, this.data?.up, this.half?.call];
    const peers = new Set(calls.flatMap((call) => (call === undefined ? [] : [call.getPeer()])));
    this.close('heartbeat timeout');
    this.hooks.silent([...peers]);
  }

  /** Ends the session; its requests in flight fail as the tunnel offline, or the edge stopping (`edgeStopping`). */
  close(reason: string, edgeStopping = false): void {
    if (this.closed) return;
    this.closed = true;
    this.heartbeats.stop();
    clearTimeout(this.watchdog);
    // Requests in flight learn the agent is gone before its data stream is.
    if (edgeStopping) this.abortAll(ErrorCode.ServerStopping, 'the tunnel server is stopping');
    else this.abortAll(ErrorCode.TunnelOffline, `agent disconnected (${reason})`);
    if (this.data !== undefined) this.detachData(this.data, reason);
    if (this.half !== undefined) endCall(this.half.call);
    this.half = undefined;
    this.control.end();
    this.hooks.closed(this, reason);
  }

  private attachData(data: DataCalls): void {
    if (this.data !== undefined) this.detachData(this.data, 'replaced by a new data stream');
    this.data = data;
    this.dataWriter = new CoalescingWriter(data.down, installInPlaceFraming().server);
    for (const call of new Set([data.down, data.up])) {
      // Headers tell the agent the stream is attached and tunnels can be registered.
      call.sendMetadata(new grpc.Metadata());
      call.on('data', (message: TunnelMessage) => this.onProxyMessage(message));
      const lost = (): void => this.detachData(data, 'data stream closed');
      // Ended by the agent itself (a stopping agent, once its answers are out): a goodbye, not a loss to wait on.
      call.on('end', () => this.detachData(data, 'the agent ended its data stream', false));
      call.on('error', lost);
      call.on('cancelled', lost);
    }
    this.hooks.dataStream(this.dataStreamsAttached++ === 0 ? 'attached' : 'reattached');
  }

  private detachData(data: DataCalls, reason: string, lost = true): void {
    if (this.data !== data) return;
    this.data = undefined;
    // What still waits to be written goes before the end, as it would have without the writer.
    this.dataWriter?.flush();
    this.dataWriter = undefined;
    for (const call of new Set([data.down, data.up])) {
      call.removeAllListeners('data');
      // Ending our half lets the agent see the stream is gone and reopen it.
      endCall(call);
    }
    this.abortAll(ErrorCode.DataStreamLost, `data stream to the agent was lost (${reason})`);
    // A session's own end is not a data-stream loss worth counting.
    if (!this.closed && lost) this.hooks.dataStream('lost');
  }

  private abortAll(code: string, message: string): void {
    for (const exchange of this.exchanges.values()) exchange.abort(code, message);
    this.exchanges.clear();
  }

  /** Tells the agent, on its control stream, that a message of its broke the protocol. */
  protocolError(requestId: string, message: string): void {
    this.sendControl(controlMessage({ $case: 'error', value: { code: ErrorCode.Protocol, message, subject: requestId } }));
  }

  private onProxyMessage(message: TunnelMessage): void {
    const broken = malformedReason(message);
    if (broken !== undefined) {
      this.protocolError('', broken);
      return;
    }
    const exchange = this.exchanges.get(message.requestId);
    if (exchange !== undefined) {
      exchange.receive(message);
      return;
    }
    // Late chunks for a request we already ended are dropped: the agent got a
    // reset then. A response to a request we never sent (or already timed
    // out: a race, not a fault) gets one now.
    if (message.payload?.$case === 'responseHead') {
      this.send(
        resetMessage(message.requestId, message.protocolType || ProtocolType.PROTOCOL_TYPE_HTTP, ErrorCode.Protocol, 'unknown request_id'),
      );
    }
  }
}

function endCall(call: Call): void {
  if (!call.writableEnded) call.end();
}
