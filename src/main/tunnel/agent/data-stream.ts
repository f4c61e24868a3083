// The agent's data stream (Proxy), opened on a live control session: every
// request the server sends arrives here for the local exchanges, and their
// answers leave here. The agent reopens it alone when it breaks.
import type * as grpc from '@grpc/grpc-js';
import type { ConfigSync, TunnelMessage, TunnelServiceClient } from '../../gen/burrow/v1/tunnel.js';
import { settledWithin } from '../bounded-waits.js';
import { CoalescingWriter } from '../coalescing-writer.js';
import { defaultConfigSync } from '../config.js';
import { installInPlaceFraming } from '../patches/grpc-in-place-framing.js';
import type { LocalExchanges } from './local-exchanges.js';
import type { DataLink } from './local-exchange-context.js';

type Stream = grpc.ClientDuplexStream<TunnelMessage, TunnelMessage>;

export interface DataStreamHooks {
  /** The server attached it to our session: public requests can come now. */
  attached(): void;
  /** It broke (once); the exchanges on it are already aborted by the caller. */
  lost(why: string): void;
  /** The server has forgotten a tunnel this agent unregistered: every request for it has come before this. */
  unregistered(name: string): void;
}

export class DataStream {
  /** What exchanges answer on: requests that came on this stream. */
  readonly link: DataLink;
  private readonly proxy: Stream;
  private readonly writer: CoalescingWriter;
  private open = true;

  constructor(client: TunnelServiceClient, metadata: grpc.Metadata, config: ConfigSync, exchanges: LocalExchanges, hooks: DataStreamHooks) {
    const proxy = client.proxy(metadata) as Stream;
    this.proxy = proxy;
    const writer = (this.writer = new CoalescingWriter(proxy, installInPlaceFraming().client));
    // The server sends headers once the stream is attached to our session.
    proxy.once('metadata', () => this.open && hooks.attached());
    const link: DataLink = (this.link = {
      send: (message) => {
        if (!this.open) return false;
        writer.write(message);
        return true;
      },
      windowBytes: config.initialWindowBytes,
      maxWebSocketMessageBytes: config.maxWebsocketMessageBytes || defaultConfigSync.maxWebsocketMessageBytes,
      takesInterimResponses: config.takesInterimResponses,
      takesContinue: config.takesContinue,
      vouchesForwardedFields: config.vouchesForwardedFields,
    });
    proxy.on('data', (message: TunnelMessage) => {
      if (message.payload?.$case === 'tunnelUnregistered') hooks.unregistered(message.payload.value.name);
      else exchanges.receive(message, link);
    });
    const lost = (why: string): void => {
      if (!this.open) return;
      this.open = false;
      hooks.lost(why);
    };
    proxy.on('error', (error: grpc.ServiceError) => lost(error.details || error.message));
    proxy.on('end', () => lost('closed by the server'));
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
    const ended = new Promise<void>((resolve) => this.proxy.once('status', () => resolve()));
    this.proxy.end();
    await settledWithin(ended, waitMs);
    this.proxy.cancel();
  }

  /** Ends it from our side; the hooks hear nothing more. */
  close(): void {
    this.open = false;
    this.proxy.cancel();
  }
}
