// The TCP sockets of the connections grpc-js makes with given credentials,
// so that the agent can cut the connections its heartbeats found dead.
// Closing a client, or destroying its HTTP/2 session (grpc-js's keepalive
// does), leaves the socket open for as long as a write to it is in
// progress, which a server that reads nothing (a stopped process) never
// lets finish: the connection, and all queued on it, was held for good.
// Around the credentials' connector (grpc-js is pinned), whose connect() is
// given each new TCP socket, before TLS if any.
import type { Socket } from 'node:net';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { reportPatch } from './patch-report.js';

interface Connector {
  connect(socket: Socket): Promise<unknown>;
}

type CreateConnector = (...args: unknown[]) => Connector;

export class ClientSockets {
  private readonly sockets = new Set<Socket>();

  /** Watches the connections made with `credentials` from now on; returns them. */
  watch(credentials: ChannelCredentials): ChannelCredentials {
    const target = credentials as unknown as { _createSecureConnector?: CreateConnector };
    const create = target._createSecureConnector;
    if (!reportPatch('grpc-client-sockets', typeof create === 'function', 'the connection to a server that stops reading is held, with what is queued on it, until it reads again')) return credentials;
    target._createSecureConnector = (...args: unknown[]): Connector => {
      const connector = create!.apply(credentials, args);
      const connect = connector.connect.bind(connector);
      connector.connect = (socket: Socket) => {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        return connect(socket);
      };
      return connector;
    };
    return credentials;
  }

  /** Cuts every connection open now, with whatever waits to be written. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
