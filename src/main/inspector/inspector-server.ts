// The web inspector: serves the built renderer and the app contract over a
// WebSocket, for `burrow` runs without Electron. Bound to loopback by
// default; every API connection needs the random token, and Host and Origin
// must name this server, so a web page (DNS rebinding included) cannot reach it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { maxHarImportBytes, type AppEvents, type EventName } from '../../shared/contract.js';
import { ErrorCode } from '../../shared/error-codes.js';
import { echoed } from '../../shared/input-echo.js';
import type { AppService } from '../service/app-service.js';
import { invokeCommand, onEveryContractEvent } from '../service/command-dispatch.js';
import { rawHttpAnswer } from '../tunnel/raw-http-answer.js';
import { requestTargetUrl } from '../tunnel/request-target-url.js';
import { sendStaticFile } from './static-file.js';
import { inspectorApiPath, inspectorTokenCheckPath, type InspectorClientMessage, type InspectorServerMessage } from '../../shared/inspector-protocol.js';

export interface InspectorOptions {
  host: string;
  port: number;
  service: AppService;
  /** The built renderer (out/renderer); a placeholder page is served without it. */
  rendererDir?: string;
  /** Fixed token (tests); random otherwise. */
  token?: string;
  /** A client this far behind is cut off (tests set less). */
  maxBufferedBytes?: number;
}

/** A client this far behind on events or results is cut off; it reconnects and reloads. */
const defaultMaxBufferedBytes = 16 * 1024 * 1024;

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export class InspectorServer {
  readonly token: string;
  private readonly http: Server;
  // Room for the largest HAR file importHar takes, its text escaped in JSON (quotes double in size).
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 2 * maxHarImportBytes });
  private readonly unsubscribe: () => void;
  private boundPort = 0;
  private readonly maxBufferedBytes: number;
  /** Per client: the sizes of the results sent to it and not yet written out, in the order sent. */
  private readonly unwrittenResults = new WeakMap<WebSocket, number[]>();

  private constructor(private readonly options: InspectorOptions) {
    this.token = options.token ?? randomBytes(24).toString('base64url');
    this.maxBufferedBytes = options.maxBufferedBytes ?? defaultMaxBufferedBytes;
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.unsubscribe = onEveryContractEvent(options.service, (name, payload) => this.broadcast(name, payload));
  }

  static async start(options: InspectorOptions): Promise<InspectorServer> {
    const inspector = new InspectorServer(options);
    try {
      await new Promise<void>((resolvePromise, reject) => {
        inspector.http.once('error', reject);
        inspector.http.listen(options.port, options.host, () => resolvePromise());
      });
    } catch (error) {
      // Not listening, it would go on hearing every event of the service (the CLI tries ten ports: Node warned of a leak).
      inspector.unsubscribe();
      inspector.wss.close();
      throw error;
    }
    inspector.boundPort = (inspector.http.address() as AddressInfo).port;
    return inspector;
  }

  get port(): number {
    return this.boundPort;
  }

  /** API clients connected and not being cut off. */
  get openClients(): number {
    let open = 0;
    for (const client of this.wss.clients) if (client.readyState === client.OPEN) open++;
    return open;
  }

  /** The address to open; the token rides in the fragment, which browsers never send to servers. */
  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${this.boundPort}/#token=${this.token}`;
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    await new Promise<void>((resolvePromise) => {
      this.http.close(() => resolvePromise());
      this.http.closeAllConnections();
    });
  }

  private allowedHost(host: string | undefined): boolean {
    if (host === undefined) return false;
    const port = this.boundPort;
    return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${this.options.host}:${port}`].includes(host.toLowerCase());
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const baseHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
    if (!this.allowedHost(req.headers.host)) {
      res.writeHead(403, { ...baseHeaders, 'content-type': 'text/plain; charset=utf-8' });
      res.end('host not allowed\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...baseHeaders, allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const url = requestTargetUrl(req.url, 'http://inspector');
    if (url === undefined) {
      res.writeHead(400, { ...baseHeaders, 'content-type': 'text/plain; charset=utf-8' });
      res.end('bad request target\n');
      return;
    }
    if (url.pathname === inspectorTokenCheckPath) {
      res.writeHead(this.tokenMatches(url.searchParams.get('token') ?? '') ? 204 : 401, baseHeaders);
      res.end();
      return;
    }
    const file = this.resolveStatic(url.pathname);
    if (file === undefined) {
      if (this.options.rendererDir === undefined || !existsSync(join(this.options.rendererDir, 'index.html'))) {
        res.writeHead(200, { ...baseHeaders, 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>Burrow</title><p>The inspector UI is not built. Run <code>npm run build</code>.</p>\n');
        return;
      }
      res.writeHead(404, { ...baseHeaders, 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return;
    }
    const headers = { ...baseHeaders, 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream' };
    if (req.method === 'HEAD') res.writeHead(200, headers).end();
    else sendStaticFile(res, file, headers);
  }

  /** A file inside the renderer folder, never outside it. */
  private resolveStatic(pathname: string): string | undefined {
    const root = this.options.rendererDir;
    if (root === undefined) return undefined;
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined; // malformed percent-encoding names no file
    }
    const relative = normalize(decoded).replace(/^([/\\])+/, '');
    const candidate = resolve(root, relative === '' ? 'index.html' : relative);
    if (candidate !== resolve(root) && !candidate.startsWith(resolve(root) + sep)) return undefined;
    try {
      return statSync(candidate).isFile() ? candidate : undefined;
    } catch {
      return undefined;
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, reason: string): void => {
      socket.end(rawHttpAnswer(status, { 'content-type': 'text/plain', 'content-length': String(reason.length + 1) }, `${reason}\n`));
    };
    const url = requestTargetUrl(req.url, 'http://inspector');
    if (url === undefined) return refuse(400, 'bad request target');
    if (!this.allowedHost(req.headers.host)) return refuse(403, 'host not allowed');
    const origin = req.headers.origin;
    // Browsers always send Origin; tools may not. A foreign one is refused.
    if (origin !== undefined && !this.allowedOrigin(origin)) return refuse(403, 'origin not allowed');
    if (url.pathname !== inspectorApiPath) return refuse(404, 'not found');
    if (!this.tokenMatches(url.searchParams.get('token') ?? '')) return refuse(401, 'missing or wrong token');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onClient(ws));
  }

  private allowedOrigin(origin: string): boolean {
    try {
      const { protocol, host } = new URL(origin);
      return protocol === 'http:' && this.allowedHost(host);
    } catch {
      return false;
    }
  }

  private tokenMatches(candidate: string): boolean {
    const expected = Buffer.from(this.token);
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private onClient(ws: WebSocket): void {
    ws.on('error', () => {});
    ws.on('message', async (data) => {
      let message: Partial<Record<keyof InspectorClientMessage, unknown>>;
      try {
        message = (JSON.parse(String(data)) ?? {}) as typeof message;
      } catch (error) {
        this.send(ws, { type: 'result', id: null, result: { ok: false, code: ErrorCode.InvalidInput, message: `bad message: ${(error as Error).message}` } });
        return;
      }
      const { id, name } = message;
      // An id JSON cannot write back (1e400 reads as Infinity) would answer as null.
      if (message.type !== 'call' || typeof id !== 'number' || !Number.isFinite(id) || typeof name !== 'string') {
        this.send(ws, { type: 'result', id: null, result: { ok: false, code: ErrorCode.InvalidInput, message: 'bad message: expected {type: "call", id, name, input}' } });
        return;
      }
      const result = await invokeCommand(this.options.service, name, message.input);
      try {
        this.send(ws, { type: 'result', id, result });
      } catch (error) {
        // Not the message's fault: an answer past what a string holds (Invalid string length) was reported as a bad message.
        this.send(ws, { type: 'result', id, result: { ok: false, code: ErrorCode.Internal, message: `the answer to ${echoed(name)} could not be sent: ${(error as Error).message}` } });
      }
    });
  }

  private broadcast<E extends EventName>(name: E, payload: AppEvents[E]): void {
    if (this.wss.clients.size === 0) return;
    const text = JSON.stringify({ type: 'event', name, payload });
    for (const client of this.wss.clients) {
      if (this.behind(client)) client.close(1013, 'too far behind; reconnect');
      else if (client.readyState === client.OPEN) client.send(text);
    }
  }

  /**
   * Whether `ws` takes what it is sent so slowly that it is to be cut off:
   * more than the bound unwritten besides the largest result it is being
   * sent (a HAR export of 30 MB cut a client that was reading it).
   */
  private behind(ws: WebSocket): boolean {
    const largestResult = (this.unwrittenResults.get(ws) ?? []).reduce((largest, bytes) => Math.max(largest, bytes), 0);
    return ws.bufferedAmount - largestResult > this.maxBufferedBytes;
  }

  /** A command's result; a client this far behind is cut off, as for events (one that never reads would hold every result). */
  private send(ws: WebSocket, message: InspectorServerMessage): void {
    if (ws.readyState !== ws.OPEN) return;
    if (this.behind(ws)) {
      ws.close(1013, 'too far behind; reconnect');
      return;
    }
    const text = JSON.stringify(message);
    let unwritten = this.unwrittenResults.get(ws);
    if (unwritten === undefined) this.unwrittenResults.set(ws, (unwritten = []));
    unwritten.push(Buffer.byteLength(text));
    // ws writes in order: the oldest unwritten is the one written now.
    ws.send(text, () => unwritten.shift());
  }
}
