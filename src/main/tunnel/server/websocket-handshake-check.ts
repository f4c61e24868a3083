// A WebSocket handshake the edge would refuse anyway is refused before the
// agent opens one to the local service: the public side of the handshake is
// completed by ws (WebSocketServer.handleUpgrade) only once the service has
// accepted, and a request with no valid key, a POST or an unknown version
// used to reach the service as a valid GET upgrade (with a key of the
// agent's), which ran its connect logic for a client that was then refused.
// The rules are ws's own, in its order, so that ws answers them as it would.
import type { IncomingMessage } from 'node:http';

const keyPattern = /^[+/0-9A-Za-z]{22}==$/;
/** An RFC 9110 token: what each offered subprotocol must be (RFC 6455 section 4.1). */
const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether a Sec-WebSocket-Protocol offer parses as ws parses it: tokens, each once, separated by commas with optional spaces or tabs. */
function validSubprotocolOffer(offer: string): boolean {
  if (/^[ \t]/.test(offer)) return false;
  const names = offer.split(',').map((name) => name.replace(/[ \t]+$/, '').replace(/^[ \t]+/, ''));
  return names.every((name) => tokenPattern.test(name)) && new Set(names).size === names.length;
}

/** Why ws would refuse this handshake, or undefined when it would go on. */
export function invalidWebSocketHandshake(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'the WebSocket handshake is not a GET';
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !keyPattern.test(key)) return 'missing or invalid Sec-WebSocket-Key';
  const version = Number(req.headers['sec-websocket-version']);
  if (version !== 13 && version !== 8) return 'missing or unsupported Sec-WebSocket-Version';
  const offer = req.headers['sec-websocket-protocol'];
  if (offer !== undefined && !validSubprotocolOffer(offer)) return 'invalid or repeated Sec-WebSocket-Protocol names';
  return undefined;
}
