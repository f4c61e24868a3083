// A hand-driven agent speaking the tunnel protocol with raw bytes, so tests
// can send what a real agent never would: arbitrary, out-of-order and
// undecodable TunnelMessages.
import * as grpc from '@grpc/grpc-js';
import { ProtocolType, TunnelMessage, TunnelServiceService } from '../../src/main/gen/burrow/v1/tunnel.js';
import { controlMessage } from '../../src/main/tunnel/messages.js';

const raw = (value: Buffer): Buffer => value;
const rawService = {
  controlStream: { ...TunnelServiceService.controlStream, requestSerialize: raw, responseDeserialize: raw },
  proxy: { ...TunnelServiceService.proxy, requestSerialize: raw, responseDeserialize: raw },
};
const RawClient = grpc.makeGenericClientConstructor(rawService, 'TunnelService');

export const encode = (message: TunnelMessage): Buffer => Buffer.from(TunnelMessage.encode(message).finish());

export interface FakeAgent {
  /** Messages the server sent on the control stream, decoded. */
  controlReceived: TunnelMessage[];
  /** Called with each request the server sends on the data stream. */
  onRequest(listener: (message: TunnelMessage) => void): void;
  /** Writes bytes (an encoded message or garbage) on the data stream. */
  sendData(bytes: Buffer): void;
  close(): void;
}

export async function connectFakeAgent(controlPort: number, tunnelName: string): Promise<FakeAgent> {
  const client = new RawClient(`127.0.0.1:${controlPort}`, grpc.credentials.createInsecure()) as unknown as {
    controlStream(metadata: grpc.Metadata): grpc.ClientDuplexStream<Buffer, Buffer>;
    proxy(metadata: grpc.Metadata): grpc.ClientDuplexStream<Buffer, Buffer>;
    close(): void;
  };
  const control = client.controlStream(new grpc.Metadata());
  control.on('error', () => {});
  const controlReceived: TunnelMessage[] = [];
  const waiters: ((message: TunnelMessage) => void)[] = [];
  control.on('data', (bytes: Buffer) => {
    const message = TunnelMessage.decode(bytes);
    controlReceived.push(message);
    waiters.splice(0).forEach((waiter) => waiter(message));
  });
  const next = (kind: string): Promise<TunnelMessage> =>
    new Promise((resolve) => {
      const seen = controlReceived.find((m) => m.payload?.$case === kind);
      if (seen) return resolve(seen);
      const check = (message: TunnelMessage): void => (message.payload?.$case === kind ? resolve(message) : void waiters.push(check));
      waiters.push(check);
    });
  control.write(encode(controlMessage({ $case: 'hello', value: { agentId: `fake-${tunnelName}`, version: 'fuzz', relaysContinue: false } })));
  const welcome = await next('welcome');
  const sessionId = welcome.payload?.$case === 'welcome' ? welcome.payload.value.sessionId : '';
  const metadata = new grpc.Metadata();
  metadata.set('burrow-session', sessionId);
  const proxy = client.proxy(metadata);
  proxy.on('error', () => {});
  await new Promise((resolve) => proxy.once('metadata', resolve));
  control.write(encode(controlMessage({ $case: 'registerTunnel', value: { name: tunnelName, protocol: ProtocolType.PROTOCOL_TYPE_HTTP, target: 'fuzz' } }, 'reg-1')));
  await next('tunnelRegistered');
  const listeners: ((message: TunnelMessage) => void)[] = [];
  proxy.on('data', (bytes: Buffer) => {
    const message = TunnelMessage.decode(bytes);
    listeners.forEach((listener) => listener(message));
  });
  return {
    controlReceived,
    onRequest: (listener) => listeners.push(listener),
    sendData: (bytes) => void proxy.write(bytes),
    close: () => {
      proxy.end();
      control.end();
      client.close();
    },
  };
}
