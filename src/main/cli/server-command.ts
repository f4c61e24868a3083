// `burrow server`: the public edge, with its logs and, if asked, its admin
// endpoints.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { defaultDrainTimeoutMs } from '../tunnel/config.js';
import type { DevCertificate } from '../tunnel/server/dev-certificate.js';
import { ForwardedFieldTrust } from '../tunnel/server/forwarded-fields.js';
import type { TokenSpec } from '../tunnel/server/token-auth.js';
import { TunnelServer, type PemPair } from '../tunnel/server/tunnel-server.js';
import { accessLine } from './access-log.js';
import { adminAddress, startAdmin, type AdminFlags } from './admin-flags.js';
import { keepHeapHeadroom } from './heap-headroom.js';
import { reclaimMemoryWhenIdle } from './idle-memory.js';
import { cutLine, drainLine, stopOnSignals } from './lifecycle.js';
import { createLogger, flushed, type LogFormat, type LogLevel } from './logger.js';
import { readTokensFile } from './tokens-file.js';
import { UsageError } from './usage-error.js';

export interface ServerCommandOptions extends AdminFlags {
  control: string;
  public: string;
  domain: string;
  /** Absent when none is given (commander would print a default of [] in the help). */
  token?: string[];
  tokensFile?: string;
  maxInflight?: number;
  maxBody?: number;
  maxHeaderBytes?: number;
  headerTimeout?: number;
  idleTimeout?: number;
  rateLimit?: number;
  maxInflightPerAgent?: number;
  requestTimeout?: number;
  maxWebsocketMessage?: number;
  maxStreamsPerConnection?: number;
  heartbeatInterval?: number;
  tlsCert?: string;
  tlsKey?: string;
  devTls?: boolean;
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** true: access lines go with the other logs; a path: they go to that file. */
  accessLog?: string | true;
  /** Peers whose X-Forwarded-* fields go on to services; loopback when not given. */
  trustForwarded?: string[];
  /** redis://HOST:PORT shared with the other edges of the domain. */
  cluster?: string;
  /** HOST:PORT agents and other edges reach this edge's control port at. */
  advertise?: string;
  /** Milliseconds after start during which a name no agent holds is answered as offline, not unknown. */
  restartGrace?: number;
  /** How long a stop waits for requests under way (0: cut at once). */
  drainTimeout?: number;
}

export async function runServer(options: ServerCommandOptions): Promise<void> {
  const bareTokens = options.token ?? (process.env.BURROW_TOKEN ? [process.env.BURROW_TOKEN] : []);
  const tokens: (string | TokenSpec)[] = [...bareTokens, ...(options.tokensFile === undefined ? [] : readTokensFile(options.tokensFile))];
  const heartbeat = options.heartbeatInterval;
  const admin = adminAddress(options);
  if (options.cluster !== undefined && options.advertise === undefined && /^(0\.0\.0\.0|\[?::\]?):/.test(options.control)) {
    throw new UsageError('--cluster with --control on every interface needs --advertise HOST:PORT: the address agents and the other edges reach this one at');
  }
  if (options.advertise !== undefined && options.cluster === undefined) throw new UsageError('--advertise is for --cluster');
  if (options.trustForwarded !== undefined) {
    try {
      new ForwardedFieldTrust(options.trustForwarded);
    } catch (error) {
      throw new UsageError(`--trust-forwarded: ${(error as Error).message}`);
    }
  }
  const logger = createLogger({ format: options.logFormat, level: options.logLevel });
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (options.devTls && options.tlsCert !== undefined) throw new UsageError('--dev-tls makes its own certificate; drop --tls-cert/--tls-key');
  let tls: PemPair | undefined;
  let dev: DevCertificate | undefined;
  if (options.tlsCert !== undefined && options.tlsKey !== undefined) {
    tls = { cert: readPem(options.tlsCert, '--tls-cert'), key: readPem(options.tlsKey, '--tls-key') };
  } else if (options.devTls) {
    // Loaded only here, like prom-client below: the x509 stack is ~200 modules no plain edge needs.
    dev = await (await import('../tunnel/server/dev-certificate.js')).makeDevCertificate(options.domain);
    tls = dev;
    logger.info({ certPath: dev.certPath }, `dev TLS: certificates signed by a local authority, its certificate at ${dev.certPath}; agents connect with --ca ${dev.certPath}`);
  }
  const cluster =
    options.cluster === undefined
      ? undefined
      : // Loaded only here: a single edge never needs the Redis client.
        new (await import('../cluster/redis-edge-cluster.js')).RedisEdgeCluster({ url: options.cluster, advertise: options.advertise, domain: options.domain });
  if (cluster !== undefined) {
    cluster.on('reachability', (reachable, detail) => (reachable ? logger.info(detail) : logger.warn(`${detail}: serving the tunnels held here; new names are refused until it is back`)));
  }
  const server = new TunnelServer({
    cluster,
    controlAddress: options.control,
    publicAddress: options.public,
    domain: options.domain,
    tokens,
    publicTls: tls,
    controlTls: tls,
    trustForwardedFrom: options.trustForwarded,
    reconnectGraceMs: options.restartGrace,
    limits: definedOnly({
      maxInflight: options.maxInflight,
      maxInflightPerAgent: options.maxInflightPerAgent,
      maxBodyBytes: options.maxBody,
      maxHeaderBytes: options.maxHeaderBytes,
      headerTimeoutMs: options.headerTimeout,
      idleTimeoutMs: options.idleTimeout,
      ratePerTunnel: options.rateLimit,
      maxWebSocketMessageBytes: options.maxWebsocketMessage,
      maxStreamsPerConnection: options.maxStreamsPerConnection,
    }),
    config: {
      ...(options.requestTimeout !== undefined && { requestTimeoutMs: options.requestTimeout }),
      ...(heartbeat !== undefined && { heartbeatIntervalMs: heartbeat, heartbeatTimeoutMs: heartbeat * 3 }),
    },
  });
  logLifecycle(server, logger);
  // Access lines are wanted whatever the lifecycle lines' level.
  const accessLogger = options.accessLog === undefined ? undefined : createLogger({ format: options.logFormat, level: 'info', file: options.accessLog === true ? undefined : options.accessLog });
  if (accessLogger !== undefined) logAccess(server, accessLogger);
  await server.start();
  const host = options.control.replace(/:\d+$/, '');
  const edge = options.advertise ?? `${host}:${server.controlPort}`;
  const adminServer =
    admin === undefined
      ? undefined
      : await startAdmin(admin, new (await import('../admin/edge-metrics.js')).EdgeMetrics(server, edge)).catch(async (error: Error) => {
          await server.stop();
          throw error;
        });
  keepHeapHeadroom();
  reclaimMemoryWhenIdle();
  const saidCut = (cut: number): void => {
    const line = cutLine(cut);
    if (line !== undefined) logger.warn({ cut }, line);
  };
  const stopped = async (): Promise<void> => {
    await adminServer?.stop();
    dev?.discard();
    logger.info('server stopped');
    await Promise.all([logger, accessLogger].map((each) => each && flushed(each)));
  };
  const drainMs = options.drainTimeout ?? defaultDrainTimeoutMs;
  stopOnSignals(
    async () => {
      // Readiness says stopping as the drain begins, for a load balancer to see: the admin port goes last.
      saidCut(
        await server.drain(drainMs, (underWay) => {
          const line = drainLine(underWay, drainMs);
          if (line !== undefined) logger.info({ underWay }, line);
        }),
      );
      await stopped();
    },
    // Asked again: what is under way is answered as cut (503, gRPC UNAVAILABLE), not dropped with the process.
    async () => {
      saidCut(server.requestsUnderWay);
      await server.stop();
      await stopped();
    },
  );
  process.stdout.write(`burrow server: agents connect to ${host}:${server.controlPort}${tls ? ' (TLS)' : ''}\n`);
  // On stdout as well as in the log, which --log-level can quiet: an agent cannot connect without it.
  if (dev !== undefined) process.stdout.write(`burrow server: dev TLS certificate at ${dev.certPath} (agents connect with --ca ${dev.certPath})\n`);
  if (cluster !== undefined) process.stdout.write(`burrow server: in the cluster at ${redisWhere(options.cluster!)} as ${cluster.self}\n`);
  process.stdout.write(`burrow server: public traffic on ${server.publicUrl('*')}\n`);
  if (adminServer !== undefined) process.stdout.write(`burrow server: admin on ${adminServer.url} (/metrics /healthz /readyz /api/tunnels)\n`);
  if (tokens.length === 0) logger.warn('no --token or --tokens-file given; any agent may connect');
  else logger.info(`accepting ${tokens.length} token(s)${options.tokensFile ? ` (named ones from ${options.tokensFile})` : ''}`);
}

function logLifecycle(server: TunnelServer, logger: Logger): void {
  server.on('agent-connected', (agentId) => logger.info({ agentId }, `agent ${agentId} connected`));
  server.on('agent-disconnected', (agentId, reason) => logger.info({ agentId, reason }, `agent ${agentId} disconnected: ${reason}`));
  server.on('tunnel-registered', (tunnel, url) => logger.info({ tunnel, url }, `tunnel ${tunnel} registered at ${url}`));
  server.on('tunnel-refused', (tunnel, code, message) => logger.warn({ tunnel, code }, `tunnel name refused: ${message}`));
  server.on('agent-refused', (code) => logger.warn({ code }, 'agent refused: the server rejected its token'));
  server.on('data-stream', (agentId, event) => event === 'lost' && logger.info({ agentId }, `agent ${agentId}: data stream lost, waiting for it to reopen`));
}

function logAccess(server: TunnelServer, logger: Logger): void {
  server.on('request-end', (record) => {
    const { fields, message } = accessLine(record);
    logger.info(fields, message);
  });
}

/** Where Redis is, without any password the URL carries. */
function redisWhere(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(the --cluster URL)';
  }
}

/** Unset flags leave the server's defaults alone. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
