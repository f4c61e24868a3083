// AppService: the app contract's one implementation, Electron-free. It owns
// the tunnel agent, the optional embedded server, the traffic log and the
// stats, persists tunnels and settings, and pushes contract events.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type {
  AgentStatus,
  AppEvents,
  CreateTunnelInput,
  EmbeddedServerStatus,
  RequestDetail,
  RequestSummary,
  Settings,
  StatsSnapshot,
  TunnelConfig,
  TunnelView,
  UpdateTunnelInput,
} from '../../shared/contract.js';
import type { TrafficEvent } from '../../shared/traffic.js';
import { parseLocalTarget } from '../tunnel/agent/local-target.js';
import { TunnelAgent, type AgentTls, type LiveTunnel } from '../tunnel/agent/tunnel-agent.js';
import { ErrorCode } from '../tunnel/errors.js';
import { isValidTunnelName } from '../tunnel/tunnel-names.js';
import { AppError, AppErrorCode } from './app-error.js';
import { EmbeddedServer } from './embedded-server.js';
import { SettingsStore, defaultSettings, type PersistedState } from './settings-store.js';
import { ThroughputStats } from './throughput-stats.js';
import { TrafficLog, defaultTrafficLogLimits, type TrafficLogLimits } from './traffic-log.js';

export interface AppServiceOptions {
  /** Where tunnels and settings persist; omit to keep them in memory only (the CLI). */
  settingsPath?: string;
  /** Starting state when nothing is persisted (or nothing persists). */
  initial?: { settings?: Partial<Settings>; tunnels?: TunnelConfig[] };
  trafficLimits?: Partial<TrafficLogLimits>;
  /** How often traffic batches are pushed; ≤ 20 per second by default. */
  flushIntervalMs?: number;
  log?: (line: string) => void;
}

type ServiceEvents = { [E in keyof AppEvents]: [AppEvents[E]] } & {
  /** The agent gave up for good (e.g. its token was rejected). */
  fatal: [code: string, message: string];
};

interface TunnelRuntime {
  status: TunnelView['status'];
  publicUrl?: string;
  error?: { code: string; message: string };
}

export class AppService extends EventEmitter<ServiceEvents> {
  private readonly store: SettingsStore | undefined;
  private state: PersistedState;
  private agent: TunnelAgent | undefined;
  private embedded: EmbeddedServer | undefined;
  private embeddedError: string | undefined;
  private readonly runtime = new Map<string, TunnelRuntime>();
  private agentStatusValue: AgentStatus;
  private readonly traffic: TrafficLog;
  private readonly stats = new ThroughputStats();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly statsTimer: NodeJS.Timeout;
  private closed = false;

  private constructor(private readonly options: AppServiceOptions) {
    super();
    this.store = options.settingsPath === undefined ? undefined : new SettingsStore(options.settingsPath);
    const loaded = this.store?.load();
    if (loaded?.warning) options.log?.(loaded.warning);
    this.state = loaded?.existed
      ? loaded.state
      : { settings: { ...defaultSettings, ...options.initial?.settings }, tunnels: options.initial?.tunnels ?? [] };
    this.agentStatusValue = { state: 'idle', detail: 'not started', server: this.state.settings.serverAddress };
    this.traffic = new TrafficLog({ ...defaultTrafficLogLimits, ...options.trafficLimits });
    this.flushTimer = setInterval(() => this.flushTraffic(), options.flushIntervalMs ?? 50);
    this.statsTimer = setInterval(() => this.emit('stats', this.stats.tick(Date.now())), 1_000);
    this.flushTimer.unref();
    this.statsTimer.unref();
  }

  static async open(options: AppServiceOptions = {}): Promise<AppService> {
    const service = new AppService(options);
    if (service.state.settings.embeddedServer) await service.startEmbedded();
    service.restartAgent();
    return service;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flushTimer);
    clearInterval(this.statsTimer);
    this.agent?.stop();
    this.agent = undefined;
    await this.embedded?.stop();
    this.embedded = undefined;
  }

  // ---- commands -------------------------------------------------------

  async listTunnels(): Promise<TunnelView[]> {
    return this.tunnelViews();
  }

  async createTunnel(input: CreateTunnelInput): Promise<TunnelView> {
    const config: TunnelConfig = {
      id: randomUUID(),
      ...this.validTunnelFields(input, undefined),
      enabled: input.enabled === undefined ? true : requireBoolean(input.enabled, 'enabled'),
    };
    this.state.tunnels.push(config);
    await this.persist();
    if (config.enabled) this.attach(config);
    else this.runtime.set(config.id, { status: 'disabled' });
    this.emitTunnels();
    return this.view(config);
  }

  async updateTunnel(input: UpdateTunnelInput): Promise<TunnelView> {
    const config = this.find(input?.id);
    const merged = { name: config.name, protocol: config.protocol, target: config.target, ...stripUndefined(input) };
    Object.assign(config, this.validTunnelFields(merged, config.id));
    await this.persist();
    if (config.enabled) {
      this.detach(config);
      this.attach(config);
    }
    this.emitTunnels();
    return this.view(config);
  }

  async removeTunnel(input: { id: string }): Promise<{ removed: boolean }> {
    const config = this.find(input?.id);
    this.detach(config);
    this.state.tunnels = this.state.tunnels.filter((t) => t !== config);
    this.runtime.delete(config.id);
    await this.persist();
    this.emitTunnels();
    return { removed: true };
  }

  async setTunnelEnabled(input: { id: string; enabled: boolean }): Promise<TunnelView> {
    const config = this.find(input?.id);
    const enabled = requireBoolean(input.enabled, 'enabled');
    if (config.enabled !== enabled) {
      config.enabled = enabled;
      await this.persist();
      if (enabled) this.attach(config);
      else {
        this.detach(config);
        this.runtime.set(config.id, { status: 'disabled' });
      }
      this.emitTunnels();
    }
    return this.view(config);
  }

  async getSettings(): Promise<Settings> {
    return { ...this.state.settings };
  }

  async updateSettings(input: Partial<Settings>): Promise<Settings> {
    if (typeof input !== 'object' || input === null) throw new AppError(AppErrorCode.InvalidInput, 'settings must be an object');
    const next: Settings = { ...this.state.settings };
    if (input.serverAddress !== undefined) {
      if (typeof input.serverAddress !== 'string' || !/^(?:\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(input.serverAddress)) {
        throw new AppError(AppErrorCode.InvalidInput, `server address must be HOST:PORT, got "${String(input.serverAddress)}"`);
      }
      next.serverAddress = input.serverAddress;
    }
    if (input.token !== undefined) {
      if (typeof input.token !== 'string') throw new AppError(AppErrorCode.InvalidInput, 'token must be a string');
      next.token = input.token;
    }
    if (input.tls !== undefined) {
      if (input.tls !== 'off' && input.tls !== 'verify' && input.tls !== 'insecure') throw new AppError(AppErrorCode.InvalidInput, 'tls must be off, verify or insecure');
      next.tls = input.tls;
    }
    if (input.caFile !== undefined) {
      if (typeof input.caFile !== 'string') throw new AppError(AppErrorCode.InvalidInput, 'caFile must be a path');
      next.caFile = input.caFile;
    }
    if (input.embeddedPublicPort !== undefined) {
      const port = input.embeddedPublicPort;
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new AppError(AppErrorCode.InvalidInput, 'embedded public port must be 0-65535');
      next.embeddedPublicPort = port;
    }
    if (input.embeddedServer !== undefined) next.embeddedServer = requireBoolean(input.embeddedServer, 'embeddedServer');
    const connectionChanged =
      next.serverAddress !== this.state.settings.serverAddress ||
      next.token !== this.state.settings.token ||
      next.tls !== this.state.settings.tls ||
      next.caFile !== this.state.settings.caFile ||
      next.embeddedServer !== this.state.settings.embeddedServer;
    const embeddedChanged = next.embeddedServer !== this.state.settings.embeddedServer;
    this.state.settings = next;
    await this.persist();
    if (embeddedChanged) {
      if (next.embeddedServer) await this.startEmbedded();
      else await this.stopEmbedded();
    }
    if (connectionChanged) this.restartAgent();
    return { ...next };
  }

  async getAgentStatus(): Promise<AgentStatus> {
    return { ...this.agentStatusValue };
  }

  async getEmbeddedServer(): Promise<EmbeddedServerStatus> {
    return this.embeddedStatus();
  }

  async startEmbeddedServer(): Promise<EmbeddedServerStatus> {
    await this.updateSettings({ embeddedServer: true });
    return this.embeddedStatus();
  }

  async stopEmbeddedServer(): Promise<EmbeddedServerStatus> {
    await this.updateSettings({ embeddedServer: false });
    return this.embeddedStatus();
  }

  async listRequests(input: { limit?: number } = {}): Promise<RequestSummary[]> {
    const limit = input?.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new AppError(AppErrorCode.InvalidInput, 'limit must be a positive whole number');
    return this.traffic.list(limit);
  }

  async getRequestDetail(input: { requestId: string }): Promise<RequestDetail | null> {
    if (typeof input?.requestId !== 'string') throw new AppError(AppErrorCode.InvalidInput, 'requestId must be a string');
    return this.traffic.detail(input.requestId);
  }

  async clearTraffic(): Promise<{ cleared: number }> {
    const cleared = this.traffic.clear();
    this.flushTraffic();
    return { cleared };
  }

  async getStats(): Promise<StatsSnapshot> {
    return this.stats.snapshot();
  }

  // ---- internals ------------------------------------------------------

  /** Feeds engine traffic in; exposed for tests and for a shared agent. */
  recordTraffic(event: TrafficEvent): void {
    this.traffic.apply(event);
    this.stats.record(event);
  }

  private flushTraffic(): void {
    const batch = this.traffic.takeBatch();
    if (batch !== undefined) this.emit('traffic', batch);
  }

  private get connectAddress(): string {
    return this.state.settings.embeddedServer && this.embedded !== undefined ? this.embedded.controlAddress : this.state.settings.serverAddress;
  }

  /** A fresh agent for the current address and token, carrying every enabled tunnel. */
  private restartAgent(): void {
    this.agent?.stop();
    this.agent = undefined;
    const enabled = this.state.tunnels.filter((t) => t.enabled);
    for (const config of this.state.tunnels) this.runtime.set(config.id, { status: config.enabled ? 'connecting' : 'disabled' });
    let tls: AgentTls | undefined;
    try {
      tls = this.agentTls();
    } catch (error) {
      this.agentStatusValue = { state: 'closed', detail: (error as Error).message, server: this.connectAddress };
      this.emit('agentStatus', { ...this.agentStatusValue });
      this.emitTunnels();
      return;
    }
    const agent = new TunnelAgent({
      server: this.connectAddress,
      token: this.state.settings.token || undefined,
      tls,
      tunnels: enabled.map((t) => ({ id: t.id, name: t.name || undefined, protocol: t.protocol, target: t.target })),
    });
    this.agent = agent;
    agent.on('state', (state, detail) => {
      if (this.agent !== agent) return;
      this.agentStatusValue = { state, detail, server: this.connectAddress };
      this.emit('agentStatus', { ...this.agentStatusValue });
    });
    agent.on('tunnel-live', (tunnel: LiveTunnel) => {
      if (this.agent !== agent) return;
      this.runtime.set(tunnel.id, { status: 'online', publicUrl: tunnel.publicUrl });
      this.emitTunnels();
    });
    agent.on('tunnel-error', (_name, code, message, id) => {
      if (this.agent !== agent) return;
      if (!this.runtime.has(id)) {
        // Not about a registration: the server saying what it made of a request (e.g. a protocol error).
        this.options.log?.(`server reported ${code}: ${message}`);
        return;
      }
      const offline = code === ErrorCode.TunnelOffline;
      this.runtime.set(id, offline ? { status: 'connecting' } : { status: 'error', error: { code, message } });
      this.emitTunnels();
    });
    agent.on('traffic', (event) => this.recordTraffic(event));
    agent.on('fatal', (error) => {
      this.agentStatusValue = { state: 'closed', detail: error.message, server: this.connectAddress };
      this.emit('agentStatus', { ...this.agentStatusValue });
      this.emit('fatal', error.code, error.message);
    });
    agent.start();
    this.emitTunnels();
  }

  /** TLS options for the agent; the embedded server is always cleartext on loopback. */
  private agentTls(): AgentTls | undefined {
    const { tls, caFile } = this.state.settings;
    if (tls === 'off' || (this.state.settings.embeddedServer && this.embedded !== undefined)) return undefined;
    if (tls === 'insecure') return { insecure: true };
    if (caFile === '') return {};
    try {
      return { ca: readFileSync(caFile, 'utf8') };
    } catch (error) {
      throw new AppError(AppErrorCode.InvalidInput, `cannot read the CA file ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }

  private attach(config: TunnelConfig): void {
    this.runtime.set(config.id, { status: 'connecting' });
    this.agent?.addTunnel({ id: config.id, name: config.name || undefined, protocol: config.protocol, target: config.target });
  }

  private detach(config: TunnelConfig): void {
    this.agent?.removeTunnel(config.id);
  }

  private async startEmbedded(): Promise<void> {
    if (this.embedded !== undefined) return;
    try {
      this.embedded = await EmbeddedServer.start(this.state.settings.embeddedPublicPort);
      this.embeddedError = undefined;
    } catch (error) {
      this.embeddedError = `could not start the local test server: ${(error as Error).message}`;
      this.options.log?.(this.embeddedError);
    }
    this.emit('embeddedServer', this.embeddedStatus());
  }

  private async stopEmbedded(): Promise<void> {
    const embedded = this.embedded;
    this.embedded = undefined;
    await embedded?.stop();
    this.emit('embeddedServer', this.embeddedStatus());
  }

  private embeddedStatus(): EmbeddedServerStatus {
    if (this.embedded !== undefined) return this.embedded.status();
    return { running: false, ...(this.embeddedError !== undefined && { error: this.embeddedError }) };
  }

  private validTunnelFields(input: Partial<CreateTunnelInput> | undefined, selfId: string | undefined): Pick<TunnelConfig, 'name' | 'protocol' | 'target'> {
    if (typeof input !== 'object' || input === null) throw new AppError(AppErrorCode.InvalidInput, 'tunnel must be an object');
    const name = input.name ?? '';
    if (typeof name !== 'string' || (name !== '' && !isValidTunnelName(name))) {
      throw new AppError(AppErrorCode.InvalidInput, `"${String(name)}" is not a valid tunnel name (lowercase letters, digits and dashes, at most 63)`);
    }
    if (name !== '' && this.state.tunnels.some((t) => t.name === name && t.id !== selfId)) {
      throw new AppError(AppErrorCode.Conflict, `a tunnel named "${name}" already exists`);
    }
    if (input.protocol !== 'http' && input.protocol !== 'grpc') throw new AppError(AppErrorCode.InvalidInput, 'protocol must be http or grpc');
    if (typeof input.target !== 'string') throw new AppError(AppErrorCode.InvalidInput, 'target must be PORT or HOST:PORT');
    try {
      parseLocalTarget(input.target);
    } catch (error) {
      throw new AppError(AppErrorCode.InvalidInput, (error as Error).message);
    }
    return { name, protocol: input.protocol, target: input.target.trim() };
  }

  private find(id: unknown): TunnelConfig {
    const config = typeof id === 'string' ? this.state.tunnels.find((t) => t.id === id) : undefined;
    if (config === undefined) throw new AppError(AppErrorCode.NotFound, `no tunnel with id ${String(id)}`);
    return config;
  }

  private view(config: TunnelConfig): TunnelView {
    const runtime = this.runtime.get(config.id) ?? { status: config.enabled ? 'connecting' : 'disabled' };
    return { ...config, ...runtime };
  }

  private tunnelViews(): TunnelView[] {
    return this.state.tunnels.map((t) => this.view(t));
  }

  private emitTunnels(): void {
    this.emit('tunnels', this.tunnelViews());
  }

  private async persist(): Promise<void> {
    await this.store?.save(this.state);
  }
}

function requireBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new AppError(AppErrorCode.InvalidInput, `${name} must be true or false`);
  return value;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
