// `burrow server`: the public edge.
import { readFileSync } from 'node:fs';
import { makeDevCertificate } from '../tunnel/server/dev-certificate.js';
import type { TokenSpec } from '../tunnel/server/token-auth.js';
import { TunnelServer, type PemPair } from '../tunnel/server/tunnel-server.js';
import { log, stopOnSignals } from './lifecycle.js';
import { readTokensFile } from './tokens-file.js';
import { UsageError } from './usage-error.js';

export interface ServerCommandOptions {
  control: string;
  public: string;
  domain: string;
  token: string[];
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
}

export async function runServer(options: ServerCommandOptions): Promise<void> {
  const bareTokens = options.token.length > 0 ? options.token : process.env.BURROW_TOKEN ? [process.env.BURROW_TOKEN] : [];
  const tokens: (string | TokenSpec)[] = [...bareTokens, ...(options.tokensFile === undefined ? [] : readTokensFile(options.tokensFile))];
  const heartbeat = options.heartbeatInterval;
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (options.devTls && options.tlsCert !== undefined) throw new UsageError('--dev-tls makes its own certificate; drop --tls-cert/--tls-key');
  let tls: PemPair | undefined;
  if (options.tlsCert !== undefined && options.tlsKey !== undefined) {
    tls = { cert: readPem(options.tlsCert, '--tls-cert'), key: readPem(options.tlsKey, '--tls-key') };
  } else if (options.devTls) {
    const dev = await makeDevCertificate(options.domain);
    tls = dev;
    log(`dev TLS: self-signed certificate at ${dev.certPath}; agents connect with --ca ${dev.certPath}`);
  }
  const server = new TunnelServer({
    controlAddress: options.control,
    publicAddress: options.public,
    domain: options.domain,
    tokens,
    publicTls: tls,
    controlTls: tls,
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
  server.on('agent-connected', (agentId) => log(`agent ${agentId} connected`));
  server.on('agent-disconnected', (agentId, reason) => log(`agent ${agentId} disconnected: ${reason}`));
  server.on('tunnel-registered', (name, url) => log(`tunnel ${name} registered at ${url}`));
  await server.start();
  stopOnSignals(() => server.stop());
  const host = options.control.replace(/:\d+$/, '');
  process.stdout.write(`burrow server: agents connect to ${host}:${server.controlPort}${tls ? ' (TLS)' : ''}\n`);
  process.stdout.write(`burrow server: public traffic on ${server.publicUrl('*')}\n`);
  if (tokens.length === 0) log('warning: no --token or --tokens-file given; any agent may connect');
  else log(`accepting ${tokens.length} token(s)${options.tokensFile ? ` (named ones from ${options.tokensFile})` : ''}`);
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
