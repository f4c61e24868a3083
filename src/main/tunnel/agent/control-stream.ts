// The agent's control stream: Hello, then the server's Welcome and config,
// heartbeats both ways with a watchdog, tunnel registrations and their
// answers, and how it ends: fatal (a rejected token, an untrusted
// certificate: retrying cannot help) or lost (anything else). Each is
// reported once; after close() nothing is.
import * as grpc from '@grpc/grpc-js';
import type { ConfigSync, ErrorMessage, TunnelMessage, TunnelRegistered, TunnelServiceClient } from '../../gen/burrow/v1/tunnel.js';
import { defaultConfigSync } from '../config.js';
import { BurrowError, ErrorCode } from '../errors.js';
import { Heartbeats } from '../heartbeats.js';
import { controlMessage, type Payload } from '../messages.js';
import { connectionProblem, describeGrpcError, isCertificateProblem, tokenMetadata, type AgentTls } from './server-connection.js';

type Stream = grpc.ClientDuplexStream<TunnelMessage, TunnelMessage>;

export interface ControlStreamOptions {
  agentId: string;
  /** host:port, for messages. */
  server: string;
  token?: string;
  tls?: AgentTls;
  /** Give up when no Welcome comes in this long. */
  connectTimeoutMs: number;
}

export interface ControlStreamHooks {
  welcome(sessionId: string, config: ConfigSync): void;
  /** The edge is one of a cluster: the control addresses of its live edges. */
  clusterEdges(edges: string[]): void;
  /** The server answered registration `key`. */
  registered(key: string, answer: TunnelRegistered): void;
  /** The server refused registration `key`, or reported on something else (key ''). */
  refused(key: string, error: ErrorMessage): void;
  roundTrip(ms: number): void;
  /** `silent`: the server said nothing for the heartbeat timeout (its connection may be held by a peer that reads nothing). */
  lost(why: string, silent: boolean): void;
  fatal(error: BurrowError): void;
}

export class ControlStream {
  private readonly stream: Stream;
  private configValue: ConfigSync = defaultConfigSync;
  private heartbeats: Heartbeats | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly welcomeTimer: NodeJS.Timeout;
  private open = true;

  constructor(
    client: TunnelServiceClient,
    private readonly options: ControlStreamOptions,
    private readonly hooks: ControlStreamHooks,
  ) {
    const stream = client.controlStream(tokenMetadata(options.token)) as Stream;
    this.stream = stream;
    this.welcomeTimer = setTimeout(() => this.end(`no answer from ${options.server} in time`), options.connectTimeoutMs);
    stream.on('data', (message: TunnelMessage) => this.received(message));
    stream.on('error', (error: grpc.ServiceError) => this.failed(error));
    stream.on('end', () => this.end('the server closed the control stream'));
    this.write({ $case: 'hello', value: { agentId: options.agentId, version: '1', relaysContinue: true } });
  }

  /** The settings the server imposes (defaults until its Welcome). */
  get config(): ConfigSync {
    return this.configValue;
  }

  write(payload: Payload, requestId = ''): void {
    if (this.open) this.stream.write(controlMessage(payload, requestId));
  }

  /** Asks the server for a heartbeat now: whether one came back in `timeoutMs`. */
  probe(timeoutMs: number): Promise<boolean> {
    return this.heartbeats?.probe(timeoutMs) ?? Promise.resolve(false);
  }

  close(): void {
    if (!this.stop()) return;
    this.stream.cancel();
  }

  private received(message: TunnelMessage): void {
    if (!this.open) return;
    this.noteActivity();
    const payload = message.payload;
    switch (payload?.$case) {
      case 'welcome':
        clearTimeout(this.welcomeTimer);
        this.applyConfig(payload.value.config ?? defaultConfigSync);
        this.hooks.welcome(payload.value.sessionId, this.configValue);
        return;
      case 'clusterEdges':
        this.hooks.clusterEdges(payload.value.edges);
        return;
      case 'configSync':
        this.applyConfig(payload.value);
        return;
      case 'tunnelRegistered':
        // The server echoes the registration's request_id.
        this.hooks.registered(message.requestId, payload.value);
        return;
      case 'error':
        this.hooks.refused(message.requestId, payload.value);
        return;
      case 'heartbeat':
        this.heartbeats?.received(payload.value);
        return;
      default:
        return;
    }
  }

  private applyConfig(config: ConfigSync): void {
    this.configValue = config;
    this.heartbeats?.stop();
    this.heartbeats = new Heartbeats((heartbeat) => this.write({ $case: 'heartbeat', value: heartbeat }), config.heartbeatIntervalMs, (ms) => this.hooks.roundTrip(ms));
    this.heartbeats.start();
  }

  /** Any control message proves the server alive; silence past the timeout ends the stream. */
  private noteActivity(): void {
    clearTimeout(this.watchdog);
    const timeoutMs = this.configValue.heartbeatTimeoutMs;
    this.watchdog = setTimeout(() => this.end(`no heartbeat from the server in ${timeoutMs} ms`, true), timeoutMs);
    this.watchdog.unref();
  }

  private failed(error: grpc.ServiceError): void {
    if (error.code === grpc.status.UNAUTHENTICATED) {
      this.fatal(new BurrowError(ErrorCode.Unauthenticated, `authentication failed: ${error.details}`));
    } else if (this.options.tls !== undefined && !this.options.tls.insecure && isCertificateProblem(error)) {
      // Retrying cannot fix a certificate we do not trust.
      const advice = 'trust its certificate with --ca FILE, or skip the check with --insecure';
      this.fatal(new BurrowError(ErrorCode.TlsVerification, `TLS verification of ${this.options.server} failed: ${connectionProblem(error.details)} (${advice})`));
    } else {
      this.end(describeGrpcError(error, this.options.server, this.options.tls !== undefined));
    }
  }

  private fatal(error: BurrowError): void {
    if (this.stop()) this.hooks.fatal(error);
  }

  private end(why: string, silent = false): void {
    if (this.stop()) this.hooks.lost(why, silent);
  }

  /** False when already stopped. */
  private stop(): boolean {
    if (!this.open) return false;
    this.open = false;
    clearTimeout(this.welcomeTimer);
    clearTimeout(this.watchdog);
    this.heartbeats?.stop();
    return true;
  }
}
