// AppService: the app contract's one implementation, Electron-free. It owns
// the tunnel agent, the optional embedded server, the traffic log and the
// stats, persists tunnels and settings, and pushes contract events.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type {
  AgentStatus,
  AppCommandHandlers,
  AppEvents,
  BodyContent,
  GrpcDecoding,
  AppView,
  ConnectionLog as ConnectionLogView,
  ClearTrafficInput,
  CreateTunnelInput,
  EmbeddedServerStatus,
  ImportReport,
  ImportTunnelsInput,
  MessageData,
  MessageView,
  RequestDetail,
  ReplayEdit,
  ReplayResult,
  RequestSnippet,
  RequestSummary,
  SnippetTarget,
  Settings,
  StatsSnapshot,
  TunnelConfig,
  TunnelView,
  UpdateTunnelInput,
  WebSocketSendTarget,
} from '../../shared/contract.js';
import type { Har } from 'har-format';
import type { TrafficEvent } from '../../shared/traffic.js';
import { tunnelName } from '../../shared/tunnel-name.js';
import type { WakeSignal } from '../tunnel/agent/tunnel-agent.js';
import { AgentRunner, agentTls } from './agent-runner.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import { echoed } from '../../shared/input-echo.js';
import type { ImportPlan } from './config-import.js';
import { ConnectionLog } from './connection-log.js';
import { EmbeddedServerSwitch } from './embedded-server.js';
import { RequestTools } from './request-tools.js';
import { MessageTools } from './message-tools.js';
import { GrpcDecoder } from './grpc-decoder.js';
import { formatLocalTarget, parseLocalTarget } from '../tunnel/agent/local-target.js';
import type { EndedRequest } from './ended-requests.js';
import { TunnelAlerts, type TunnelAlert } from './tunnel-alerts.js';
import { TunnelRuntimes } from './tunnel-runtimes.js';
import { connectionChanged, nextSettings, requireBoolean, tunnelFields } from './settings-input.js';
import { SettingsStore, defaultSettings, type PersistedState } from './settings-store.js';
import type { TrafficLogLimits } from './traffic-log.js';
import { TrafficRecorder } from './traffic-recorder.js';

/** Tunnels one import adds at most: far past any real ngrok or frpc file, and a bound on what one file can make the agent hold. */
export const maxImportedTunnels = 500;

export interface AppServiceOptions {
  /** Where tunnels and settings persist; omit to keep them in memory only (the CLI). */
  settingsPath?: string;
  /** Starting state when nothing is persisted (or nothing persists). */
  initial?: { settings?: Partial<Settings>; tunnels?: TunnelConfig[] };
  trafficLimits?: Partial<TrafficLogLimits>;
  /** How often traffic batches are pushed; ≤ 20 per second by default. */
  flushIntervalMs?: number;
  log?: (line: string) => void;
  /** Edges the agent holds at once when several are known (its default: 2 then). */
  ha?: number;
}

type ServiceEvents = { [E in keyof AppEvents]: [AppEvents[E]] } & {
  /** The agent gave up for good (e.g. its token was rejected). */
  fatal: [code: string, message: string];
  /** Something to tell the user about a tunnel (only while notifications are on). */
  notify: [alert: TunnelAlert];
  settingsChanged: [settings: Settings];
  /** A request the agent forwarded has ended (for the agent's metrics). */
  requestEnded: [request: EndedRequest];
};

export class AppService extends EventEmitter<ServiceEvents> implements AppCommandHandlers {
  private readonly store: SettingsStore | undefined;
  private state: PersistedState;
  private readonly agent: AgentRunner;
  private readonly embedded = new EmbeddedServerSwitch();
  private readonly runtime = new TunnelRuntimes();
  private agentStatusValue: AgentStatus;
  private readonly traffic: TrafficRecorder;
  private readonly tools: RequestTools;
  private readonly messageTools: MessageTools;
  private readonly grpcDecoder: GrpcDecoder;
  private readonly connection = new ConnectionLog({ event: (event) => this.emit('connectionEvent', event), roundTrip: (roundTrip) => this.emit('roundTrip', roundTrip) });
  private readonly alerts = new TunnelAlerts((alert) => this.state.settings.notifications && this.emit('notify', alert));
  private closed = false;
  private tunnelsTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: AppServiceOptions) {
    super();
    this.store = options.settingsPath === undefined ? undefined : new SettingsStore(options.settingsPath);
    const loaded = this.store?.load();
    if (loaded?.warning) options.log?.(loaded.warning);
    this.state = loaded?.existed
      ? loaded.state
      : { settings: { ...defaultSettings, ...options.initial?.settings }, tunnels: options.initial?.tunnels ?? [] };
    this.agentStatusValue = { state: 'idle', detail: 'not started', server: this.state.settings.serverAddress };
    this.agent = new AgentRunner({
      status: ({ state, detail }) => this.setAgentStatus(state, detail),
      linkEvent: (kind, detail) => this.connection.happened(kind, detail, this.connectAddress),
      roundTrip: (ms) => this.connection.measured(ms, this.connectAddress),
      tunnelLive: (id, publicUrl) => {
        this.runtime.live(id, publicUrl);
        this.emitTunnels();
      },
      tunnelFailed: (id, code, message) => {
        // Not about a registration: the server saying what it made of a request (e.g. a protocol error).
        if (!this.runtime.failed(id, code, message)) this.options.log?.(`server reported ${code}: ${message}`);
        else this.emitTunnels();
      },
      traffic: (event) => this.recordTraffic(event),
      fatal: (code, message) => {
        this.setAgentStatus('closed', message);
        this.emit('fatal', code, message);
      },
    });
    this.traffic = new TrafficRecorder(
      {
        limits: options.trafficLimits,
        flushIntervalMs: options.flushIntervalMs,
        batch: (batch) => this.emit('traffic', batch),
        statsTick: (tick) => this.emit('stats', tick),
        ended: (request) => this.emit('requestEnded', request),
        healthChanged: () => this.emitTunnelsSoon(),
      },
      this.alerts,
    );
    this.grpcDecoder = new GrpcDecoder(this.traffic, { targetOf: (tunnel) => this.localTarget(tunnel) });
    this.tools = new RequestTools(this.traffic, (tunnel) => this.publicOrigin(tunnel), this.grpcDecoder);
    this.messageTools = new MessageTools(this.traffic, (requestId, to, binary, payload) => this.agent.injectWebSocketMessage(requestId, to, binary, payload));
  }

  static async open(options: AppServiceOptions = {}): Promise<AppService> {
    const service = new AppService(options);
    if (service.state.settings.embeddedServer) await service.startEmbedded();
    service.restartAgent();
    return service;
  }

  /**
   * Stops the agent and whatever the service started. With `drainMs`, the
   * requests under way first get that long to finish, recorded as they do;
   * `started` hears how many there are as that begins. Resolves with how
   * many were still under way, and cut, when it stopped.
   */
  async close(drainMs = 0, started?: (underWay: number) => void): Promise<number> {
    if (this.closed) return 0;
    this.closed = true;
    clearTimeout(this.tunnelsTimer);
    // Not ready from now on (the agent's /readyz, the inspector): it takes no new request while the last ones finish.
    if (drainMs > 0) this.setAgentStatus('closed', 'stopping: finishing the requests under way');
    const cut = await this.agent.drain(drainMs, started);
    this.traffic.close();
    await this.embedded.turnOff();
    return cut;
  }

  // ---- commands -------------------------------------------------------

  async listTunnels(): Promise<TunnelView[]> {
    return this.tunnelViews();
  }

  async createTunnel(input: CreateTunnelInput): Promise<TunnelView> {
    const config = this.addTunnel(input);
    await this.persist();
    this.emitTunnels();
    return this.view(config);
  }

  /** Adds a tunnel, attached when enabled; the caller saves and tells the UI. */
  private addTunnel(input: CreateTunnelInput): TunnelConfig {
    const config: TunnelConfig = {
      id: randomUUID(),
      ...tunnelFields(input, this.state.tunnels),
      enabled: input.enabled === undefined ? true : requireBoolean(input.enabled, 'enabled'),
    };
    this.state.tunnels.push(config);
    if (config.enabled) this.attach(config);
    else this.runtime.disabled(config.id);
    return config;
  }

  async updateTunnel(input: UpdateTunnelInput): Promise<TunnelView> {
    const config = this.find(input?.id);
    const merged = { name: config.name, protocol: config.protocol, target: config.target, ...stripUndefined(input) };
    Object.assign(config, tunnelFields(merged, this.state.tunnels.filter((t) => t !== config)));
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
    this.runtime.forget(config.id);
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
        this.runtime.disabled(config.id);
      }
      this.emitTunnels();
    }
    return this.view(config);
  }

  /** Adds the HTTP tunnels of an ngrok or frpc configuration, switched off (at most maxImportedTunnels); reports what it could not carry over. */
  async importTunnels(input: ImportTunnelsInput): Promise<ImportReport> {
    if (typeof input?.fileName !== 'string' || typeof input.text !== 'string') throw new BurrowError(ErrorCode.InvalidInput, 'give the file name and its text');
    let plan: ImportPlan;
    try {
      // Loaded on use: three config parsers nobody needs until they import.
      plan = (await import('./config-import.js')).planImport(input.fileName, input.text);
    } catch (error) {
      throw new BurrowError(ErrorCode.InvalidInput, `${input.fileName}: ${(error as Error).message}`);
    }
    const report: ImportReport = { kind: plan.kind, created: [], notMapped: plan.notMapped };
    const created: TunnelConfig[] = [];
    for (const { from, ...tunnel } of plan.tunnels) {
      if (created.length === maxImportedTunnels) {
        report.notMapped.push({ what: from, why: `one import adds at most ${maxImportedTunnels} tunnels` });
        continue;
      }
      try {
        created.push(this.addTunnel(tunnel));
      } catch (error) {
        report.notMapped.push({ what: from, why: (error as Error).message });
      }
    }
    // Saved and told once: a save and a whole list for each tunnel made a file of 3,000 a 30 s stall of the agent.
    if (created.length > 0) {
      await this.persist();
      this.emitTunnels();
    }
    report.created = created.map((config) => this.view(config));
    return report;
  }

  async getSettings(): Promise<Settings> {
    return { ...this.state.settings };
  }

  async updateSettings(input: Partial<Settings>): Promise<Settings> {
    const next = nextSettings(this.state.settings, input);
    const reconnect = connectionChanged(this.state.settings, next);
    // Refused before it applies: a CA file the agent cannot use stopped it, with every tunnel.
    if (next.tls !== this.state.settings.tls || next.caFile !== this.state.settings.caFile) agentTls(next);
    const embeddedChanged = next.embeddedServer !== this.state.settings.embeddedServer;
    this.state.settings = next;
    await this.persist();
    if (embeddedChanged) {
      if (next.embeddedServer) await this.startEmbedded();
      else await this.stopEmbedded();
    }
    if (reconnect) this.restartAgent();
    this.emit('settingsChanged', { ...next });
    return { ...next };
  }

  async getAgentStatus(): Promise<AgentStatus> {
    return { ...this.agentStatusValue };
  }

  async getEmbeddedServer(): Promise<EmbeddedServerStatus> {
    return this.embedded.status();
  }

  async startEmbeddedServer(): Promise<EmbeddedServerStatus> {
    await this.updateSettings({ embeddedServer: true });
    return this.embedded.status();
  }

  async stopEmbeddedServer(): Promise<EmbeddedServerStatus> {
    await this.updateSettings({ embeddedServer: false });
    return this.embedded.status();
  }

  async listRequests(input: { limit?: number } = {}): Promise<RequestSummary[]> {
    const limit = input?.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new BurrowError(ErrorCode.InvalidInput, 'limit must be a positive whole number');
    return this.traffic.list(limit);
  }

  async getRequestDetail(input: { requestId: string }): Promise<RequestDetail | null> {
    if (typeof input?.requestId !== 'string') throw new BurrowError(ErrorCode.InvalidInput, 'requestId must be a string');
    return this.traffic.detail(input.requestId);
  }

  async clearTraffic(input: ClearTrafficInput | void): Promise<{ cleared: number }> {
    // Clearing all is asked for by no input or `{}`: a misshapen one (a string, `[]`, `{requestids}`) cleared the whole log.
    const shapeless = input != null && (typeof input !== 'object' || Array.isArray(input) || Object.keys(input).some((key) => key !== 'requestIds'));
    if (shapeless) throw new BurrowError(ErrorCode.InvalidInput, 'give nothing to clear every request, or {requestIds: [...]}');
    const ids = input ? input.requestIds : undefined;
    if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))) {
      throw new BurrowError(ErrorCode.InvalidInput, 'requestIds must be a list of request ids');
    }
    return { cleared: this.traffic.clear(ids) };
  }

  async exportHar(input: { requestIds?: string[] }): Promise<Har> {
    return this.tools.exportHar(input);
  }

  async importHar(input: { text: string }): Promise<{ imported: number; skipped: string[] }> {
    return this.tools.importHar(input);
  }

  async getBody(input: { requestId: string; side: 'request' | 'response' }): Promise<BodyContent> {
    return this.tools.getBody(input);
  }

  async requestSnippet(input: { requestId: string; target: SnippetTarget }): Promise<RequestSnippet> {
    return this.tools.requestSnippet(input);
  }

  async replayRequest(input: { requestId: string; edit?: ReplayEdit }): Promise<ReplayResult> {
    return this.tools.replayRequest(input);
  }

  async sendWebSocketMessage(input: { requestId: string; to: WebSocketSendTarget; text?: string; base64?: string }): Promise<{ bytes: number }> {
    return this.messageTools.sendWebSocketMessage(input);
  }

  async getMessageData(input: { requestId: string; direction: MessageView['direction']; index: number }): Promise<MessageData> {
    return this.messageTools.getMessageData(input);
  }

  async exportMessages(input: { requestId: string }): Promise<{ fileName: string; text: string }> {
    return this.messageTools.exportMessages(input);
  }

  async searchMessages(input: { requestId: string; text: string }): Promise<{ matches: Pick<MessageView, 'direction' | 'index'>[] }> {
    return this.messageTools.searchMessages(input);
  }

  async decodeGrpcMessages(input: { requestId: string; refresh?: boolean }): Promise<GrpcDecoding> {
    return this.grpcDecoder.decode(input);
  }

  async loadGrpcSchema(input: { tunnel: string; fileName: string; base64: string }): Promise<{ fileName: string; services: string[] }> {
    return this.grpcDecoder.loadSchema(input);
  }

  /** The tunnel that requests know by this name (the server's, for one it named). */
  private tunnelNamed(tunnel: string): TunnelView | undefined {
    return this.tunnelViews().find((v) => tunnelName(v) === tunnel);
  }

  /** The local service (HOST:PORT) of the tunnel by this name, when it is configured here. */
  private localTarget(tunnel: string): string | undefined {
    const target = this.tunnelNamed(tunnel)?.target;
    return target === undefined ? undefined : formatLocalTarget(parseLocalTarget(target));
  }

  /** Where clients reach a tunnel (scheme, host, port), when it is registered. */
  private publicOrigin(tunnel: string): string | undefined {
    const publicUrl = this.tunnelNamed(tunnel)?.publicUrl;
    return publicUrl === undefined ? undefined : new URL(publicUrl).origin;
  }

  async searchRequests(input: { text: string }): Promise<{ requestIds: string[] }> {
    if (typeof input?.text !== 'string') throw new BurrowError(ErrorCode.InvalidInput, 'give the text to search for');
    return { requestIds: this.traffic.search(input.text) };
  }

  async getStats(): Promise<StatsSnapshot> {
    return this.traffic.statsSnapshot();
  }

  async getConnectionLog(): Promise<ConnectionLogView> {
    return this.connection.view();
  }

  /** Asks the UI to show a view (the tray's "Open inspector"). */
  showView(view: AppView): void {
    this.emit('showView', view);
  }

  /** The machine woke, the screen unlocked or the network changed (the desktop app's power and network events). */
  wake(signal: WakeSignal, sleptMs = 0): void {
    this.agent.wake(signal, sleptMs);
  }

  // ---- internals ------------------------------------------------------

  /** Feeds engine traffic in; exposed for tests and for a shared agent. */
  recordTraffic(event: TrafficEvent): void {
    this.traffic.record(event);
  }

  /** Requests in flight now, by tunnel name (for the agent's metrics). */
  inFlightByTunnel(): Map<string, number> {
    return this.traffic.inFlight();
  }

  private get connectAddress(): string {
    return (this.state.settings.embeddedServer && this.embedded.controlAddress) || this.state.settings.serverAddress;
  }

  /** A fresh agent for the current address and token, carrying every enabled tunnel. */
  private restartAgent(): void {
    this.runtime.reset(this.state.tunnels);
    const embedded = this.state.settings.embeddedServer && this.embedded.controlAddress !== undefined;
    try {
      this.agent.restart({ settings: this.state.settings, address: this.connectAddress, embedded, tunnels: this.state.tunnels, ha: this.options.ha });
    } catch (error) {
      this.agent.stop();
      this.setAgentStatus('closed', (error as Error).message);
    }
    this.emitTunnels();
  }

  private setAgentStatus(state: AgentStatus['state'], detail: string): void {
    this.agentStatusValue = { state, detail, server: this.connectAddress };
    this.emit('agentStatus', { ...this.agentStatusValue });
    this.connection.stateChanged(state, detail, this.connectAddress);
  }

  private attach(config: TunnelConfig): void {
    this.runtime.connecting(config.id);
    this.agent.addTunnel(config);
  }

  private detach(config: TunnelConfig): void {
    this.agent.removeTunnel(config.id);
  }

  private async startEmbedded(): Promise<void> {
    const failure = await this.embedded.turnOn(this.state.settings.embeddedPublicPort);
    if (failure !== undefined) this.options.log?.(failure);
    this.emit('embeddedServer', this.embedded.status());
  }

  private async stopEmbedded(): Promise<void> {
    await this.embedded.turnOff();
    this.emit('embeddedServer', this.embedded.status());
  }

  private find(id: unknown): TunnelConfig {
    const config = typeof id === 'string' ? this.state.tunnels.find((t) => t.id === id) : undefined;
    if (config === undefined) throw new BurrowError(ErrorCode.NotFound, `no tunnel with id ${echoed(id)}`);
    return config;
  }

  private view(config: TunnelConfig): TunnelView {
    const view = this.runtime.view(config);
    const localService = this.traffic.localHealth(tunnelName(view));
    return localService === undefined ? view : { ...view, localService };
  }

  /** Many failures a second become one tunnels event a quarter second. */
  private emitTunnelsSoon(): void {
    if (this.tunnelsTimer !== undefined || this.closed) return;
    this.tunnelsTimer = setTimeout(() => {
      this.tunnelsTimer = undefined;
      this.emitTunnels();
    }, 250);
  }

  private tunnelViews(): TunnelView[] {
    return this.state.tunnels.map((t) => this.view(t));
  }

  private emitTunnels(): void {
    const views = this.tunnelViews();
    this.alerts.tunnelsChanged(views);
    this.emit('tunnels', views);
  }

  private async persist(): Promise<void> {
    await this.store?.save(this.state);
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
