// The admin endpoints of an edge or an agent, for load balancers and
// Prometheus: GET /metrics, /healthz, /readyz and /api/tunnels. Loopback
// unless a token guards it; with a token, /metrics and /api/* need
// `Authorization: Bearer TOKEN` (health checks stay open: they tell nothing).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort } from '../tunnel/host-port.js';
import { requestTargetUrl } from '../tunnel/request-target-url.js';

export interface Readiness {
  ready: boolean;
  /** Why not, in words. */
  reason?: string;
}

/** What an edge or an agent serves there. */
export interface AdminEndpoints {
  /** Its metrics (a prom-client Registry). */
  readonly registry: { readonly contentType: string; metrics(): Promise<string> };
  readiness(): Readiness | Promise<Readiness>;
  tunnels(): unknown;
}

export interface AdminServerOptions {
  host: string;
  port: number;
  /** Required unless host is a loopback address. */
  token?: string;
  endpoints: AdminEndpoints;
}

/** Why the admin endpoints may not be served as asked, or undefined when they may. */
export function adminExposureProblem(host: string, token: string | undefined): string | undefined {
  if (isLoopback(host) || (token !== undefined && token !== '')) return undefined;
  return `${host} is not a loopback address: give --admin-token (or $BURROW_ADMIN_TOKEN) to serve the admin endpoints there`;
}

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

export class AdminServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(options: AdminServerOptions): Promise<AdminServer> {
    const problem = adminExposureProblem(options.host, options.token);
    if (problem !== undefined) throw new Error(problem);
    const server = createServer((req, res) => {
      handle(req, res, options).catch((error: Error) => answer(res, 500, { error: error.message }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    return new AdminServer(server, `http://${formatHostPort({ host: options.host, port })}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, { token, endpoints }: AdminServerOptions): Promise<void> {
  const url = requestTargetUrl(req.url, 'http://admin');
  if (url === undefined) {
    answer(res, 400, { error: 'the request target is no URL' });
    return;
  }
  const path = url.pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    answer(res, 405, { error: `${req.method} is not served here; the admin endpoints are read-only` });
    return;
  }
  if (path === '/healthz') {
    answer(res, 200, { alive: true });
    return;
  }
  if (path === '/readyz') {
    const readiness = await endpoints.readiness();
    answer(res, readiness.ready ? 200 : 503, readiness);
    return;
  }
  if (path !== '/metrics' && path !== '/api/tunnels') {
    answer(res, 404, { error: `no ${path} here: try /metrics, /healthz, /readyz or /api/tunnels` });
    return;
  }
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res.setHeader('www-authenticate', 'Bearer realm="burrow admin"');
    answer(res, 401, { error: 'this needs Authorization: Bearer with the admin token' });
    return;
  }
  if (path === '/metrics') {
    const text = await endpoints.registry.metrics();
    res.writeHead(200, { 'content-type': endpoints.registry.contentType, 'cache-control': 'no-store' }).end(text);
    return;
  }
  answer(res, 200, { tunnels: await endpoints.tunnels() });
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(`${JSON.stringify(body)}\n`);
}

/** Compares digests so the time taken says nothing about the token. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(token));
}
