// Relays one WebSocket to and from the tunnel as WebSocketFrame messages,
// under per-connection credit both ways. The server uses it for the public
// client's socket, the agent for the local service's.
import type { RawData, WebSocket } from 'ws';
import type { WebSocketFrame } from '../gen/burrow/v1/tunnel.js';
import { CreditGate, CreditedReceiver } from './flow-control.js';

export const Opcode = { Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** Codes an endpoint may put in a close frame (RFC 6455 section 7.4). */
function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

export interface WebSocketRelayHooks {
  /** Sends a frame through the tunnel. */
  sendFrame(frame: WebSocketFrame): void;
  /** Sends a credit grant through the tunnel. */
  sendGrant(bytes: number): void;
  /** Every frame relayed, with its direction relative to this socket. */
  observe?(frame: WebSocketFrame, fromSocket: boolean): void;
  /** The socket is closed (both ways); called once. */
  closed(code: number, reason: string): void;
}

export class WebSocketRelay {
  private readonly gate: CreditGate;
  private readonly receiver: CreditedReceiver<WebSocketFrame>;
  private isClosed = false;

  constructor(
    private readonly ws: WebSocket,
    window: number,
    private readonly hooks: WebSocketRelayHooks,
  ) {
    this.gate = new CreditGate(window, () => ws.pause(), () => ws.resume());
    this.receiver = new CreditedReceiver<WebSocketFrame>((frame, done) => this.toSocket(frame, done), window, hooks.sendGrant);
    ws.on('message', (data: RawData, isBinary: boolean) =>
      this.fromSocket({ fin: true, opcode: isBinary ? Opcode.Binary : Opcode.Text, payload: toBuffer(data), closeCode: 0, closeReason: '' }),
    );
    ws.on('ping', (payload: Buffer) => this.fromSocket(controlFrame(Opcode.Ping, payload)));
    ws.on('pong', (payload: Buffer) => this.fromSocket(controlFrame(Opcode.Pong, payload)));
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.isClosed) return;
      this.isClosed = true;
      const frame: WebSocketFrame = { fin: true, opcode: Opcode.Close, payload: Buffer.alloc(0), closeCode: code, closeReason: reason.toString() };
      hooks.observe?.(frame, true);
      hooks.sendFrame(frame);
      hooks.closed(code, frame.closeReason);
    });
    // Errors end in 'close', which is what the peer is told about.
    ws.on('error', () => {});
  }

  /** A frame from the tunnel, for this socket. */
  deliver(frame: WebSocketFrame): void {
    this.hooks.observe?.(frame, false);
    this.receiver.write(frame, frame.payload.length);
  }

  grant(bytes: number): void {
    this.gate.grant(bytes);
  }

  /** Drops the socket without a close handshake (the tunnel side is gone). */
  terminate(): void {
    this.isClosed = true;
    this.ws.terminate();
  }

  private fromSocket(frame: WebSocketFrame): void {
    this.hooks.observe?.(frame, true);
    this.gate.spend(frame.payload.length);
    this.hooks.sendFrame(frame);
  }

  private toSocket(frame: WebSocketFrame, done: (error?: Error | null) => void): void {
    const { ws } = this;
    if (ws.readyState !== ws.OPEN) {
      done();
      return;
    }
    switch (frame.opcode) {
      case Opcode.Text:
      case Opcode.Binary:
        ws.send(frame.payload, { binary: frame.opcode === Opcode.Binary, fin: frame.fin }, done);
        return;
      case Opcode.Ping:
        ws.ping(frame.payload, undefined, done);
        return;
      case Opcode.Pong:
        ws.pong(frame.payload, undefined, done);
        return;
      case Opcode.Close:
        if (frame.closeCode === 1006) ws.terminate();
        else if (isSendableCloseCode(frame.closeCode)) ws.close(frame.closeCode, frame.closeReason);
        else ws.close();
        done();
        return;
      default:
        done();
    }
  }
}

function controlFrame(opcode: number, payload: Buffer): WebSocketFrame {
  return { fin: true, opcode, payload, closeCode: 0, closeReason: '' };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
