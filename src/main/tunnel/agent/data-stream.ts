// The agent's data stream (Proxy), opened on a live control session: every
// request the server sends arrives here for the local exchanges, and their
// answers leave here. The agent reopens it alone when it breaks. With a server
// that takes it, it is two calls, the answers' on a connection of their own
// (data-direction.ts).
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { ConfigSync, TunnelMessage, TunnelServiceClient } from '../../gen/burrow/v1/tunnel.js';
import { settledWithin } from '../bounded-waits.js';
import { CoalescingWriter } from '../coalescing-writer.js';
import { defaultConfigSync } from '../config.js';
import { dataDirectionKey, dataLinkKey } from '../data-direction.js';
import { installInPlaceFraming } from '../patches/grpc-in-place-framing.js';
import type { LocalExchanges } from './local-exchanges.js';
import type { DataLink } from './local-exchange-context.js';

type Stream = grpc.ClientDuplexStream<TunnelMessage, TunnelMessage>;

export interface DataStreamHooks {
  /** The server attached it to our session: public requests can come now. */
  attached(): void;
  /**
   * It broke (once); the exchanges on it are already aborted by the caller.
   * `uplinkRefused`: the server the uplink's connection reached knew nothing
   * of our session (a load balancer sent it to another edge).
   */
  lost(why: string, uplinkRefused: boolean): void;
  /** The server has forgotten a tunnel this agent unregistered: every request for it has come before this. */
  unregistered(name: string): void;
}

export class DataStream {
  /** What exchanges answer on: requests that came on this stream. */
  readonly link: DataLink;
  /** The call the server's messages come on. */
  private readonly proxy: Stream;
  /** The call ours leave on: `proxy` itself, with a server from before uplinks. */
  private readonly uplink: Stream;
  private readonly writer: CoalescingWriter;
  private open = true;

  /** `uplinkClient`: a client on a connection of its own, for the uplink; none for one call carrying both directions. */
  constructor(client: TunnelServiceClient, uplinkClient: TunnelServiceClient | undefined, metadata: grpc.Metadata, config: ConfigSync, exchanges: LocalExchanges, hooks: DataStreamHooks) {
    let proxy: Stream;
    let uplink: Stream;
    if (uplinkClient !== undefined) {
      const pair = randomUUID();
      proxy = client.proxy(directed(metadata, 'downlink', pair)) as Stream;
      uplink = uplinkClient.proxy(directed(metadata, 'uplink', pair)) as Stream;
    } else {
      proxy = uplink = client.proxy(metadata) as Stream;
    }
    this.proxy = proxy;
    this.uplink = uplink;
    const calls = [...new Set([proxy, uplink])];
    const writer = (this.writer = new CoalescingWriter(uplink, installInPlaceFraming().client));
    // The server sends headers once the stream is attached to our session: on each call.
    let unattached = calls.length;
    for (const call of calls) call.once('metadata', () => --unattached === 0 && this.open && hooks.attached());
    const link: DataLink = (this.link = {
      send: (message) => {
        if (!this.open) return false;
        writer.write(message);
        return true;
      },
      windowBytes: config.initialWindowBytes,
      sendsGathered: installInPlaceFraming().clientGathered,
      maxWebSocketMessageBytes: config.maxWebsocketMessageBytes || defaultConfigSync.maxWebsocketMessageBytes,
      takesInterimResponses: config.takesInterimResponses,
      takesContinue: config.takesContinue,
      vouchesForwardedFields: config.vouchesForwardedFields,
    });
    const lost = (why: string, uplinkRefused = false): void => {
      if (!this.open) return;
      this.open = false;
      // Its other call goes with it: the server attaches the two together.
      for (const call of calls) call.cancel();
      hooks.lost(why, uplinkRefused);
    };
    for (const call of calls) {
      call.on('data', (message: TunnelMessage) => {
        if (message.payload?.$case === 'tunnelUnregistered') hooks.unregistered(message.payload.value.name);
        else exchanges.receive(message, link);
      });
      call.on('error', (error: grpc.ServiceError) => lost(error.details || error.message, call !== proxy && error.code === grpc.status.NOT_FOUND));
      call.on('end', () => lost('closed by the server'));
    }
  }

  get isOpen(): boolean {
    return this.open;
  }

  /**
   * Ends it from our side once what is written has left (close() would reset
   * the stream, and messages still queued with it): the server's end of it, or
   * `waitMs`, whichever comes first. The hooks hear nothing more.
   */
  async finish(waitMs: number): Promise<void> {
    if (!this.open) return;
    this.open = false;
    this.writer.flush();
    const ended = new Promise<void>((resolve) => this.uplink.once('status', () => resolve()));
    this.uplink.end();
    await settledWithin(ended, waitMs);
    this.close();
  }

  /** Ends it from our side; the hooks hear nothing more. */
  close(): void {
    this.open = false;
    this.proxy.cancel();
    this.uplink.cancel();
  }
}

function directed(metadata: grpc.Metadata, direction: 'downlink' | 'uplink', pair: string): grpc.Metadata {
  const copy = metadata.clone();
  copy.set(dataDirectionKey, direction);
  copy.set(dataLinkKey, pair);
  return copy;
}
