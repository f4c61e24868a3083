// The app contract: every command the UI can call and every event main
// pushes to it, typed once. Electron IPC, the web inspector's WebSocket and
// in-process tests are transports of this one definition; channel names
// are derived from the keys below, never retyped.
import type { Har } from 'har-format';
import type { HeaderPair, TrafficProtocol } from './traffic.js';

export type TunnelProtocol = 'http' | 'grpc';

export interface TunnelConfig {
  id: string;
  /** Served as NAME.DOMAIN; empty lets the server pick. */
  name: string;
  protocol: TunnelProtocol;
  /** PORT or HOST:PORT of the local service. */
  target: string;
  enabled: boolean;
}

export type TunnelStatus = 'disabled' | 'connecting' | 'online' | 'error';

export interface TunnelView extends TunnelConfig {
  status: TunnelStatus;
  publicUrl?: string;
  error?: { code: string; message: string };
  /** Present once the local service has failed a request: registered is not the same as working. */
  localService?: LocalServiceHealth;
}

export interface LocalServiceHealth {
  /** Requests the local service refused (nothing listening), in the last minute. */
  refusedLastMinute: number;
  /** Requests it did not answer in time, in the last minute. */
  timedOutLastMinute: number;
  /** Requests it accepted and then failed (reset, closed), in the last minute. */
  failedLastMinute: number;
  lastError: { code: string; message: string; at: number };
}

export interface Settings {
  /** host:port of the tunnel server's control port. */
  serverAddress: string;
  token: string;
  /** How to reach the server: cleartext, TLS verifying its certificate, or TLS without verifying. */
  tls: 'off' | 'verify' | 'insecure';
  /** PEM file of a certificate to trust for the server (a self-signed one); empty for the system's roots. */
  caFile: string;
  /** Run an in-process tunnel server plus demo backends and point the agent at it. */
  embeddedServer: boolean;
  /** Public port of the embedded server (0 picks a free one). */
  embeddedPublicPort: number;
  /** Desktop notifications when a tunnel goes offline or back, or its local service keeps failing. */
  notifications: boolean;
  /** Start the desktop app when the user logs in. */
  startAtLogin: boolean;
  /** Start in the tray, without opening the window. */
  startHidden: boolean;
}

export type AgentState = 'idle' | 'connecting' | 'ready' | 'backoff' | 'closed';

/** The UI's views, for main to ask for one (the tray's "Open inspector"). */
export type AppView = 'tunnels' | 'inspector' | 'throughput' | 'connection' | 'settings';

export interface AgentStatus {
  state: AgentState;
  detail: string;
  server: string;
}

/** One thing that happened to the agent's connection, for the Connection view's timeline. */
export interface ConnectionEvent {
  at: number;
  kind: 'connecting' | 'connected' | 'disconnected' | 'data-stream-open' | 'data-stream-lost' | 'wake' | 'probe';
  /** Why, in words (the reason for a disconnect, the signal for a wake). */
  detail: string;
  /** The edge it concerns (host:port). */
  server: string;
}

/** A heartbeat round trip to the edge. */
export interface RoundTrip {
  at: number;
  ms: number;
  server: string;
}

export interface ConnectionLog {
  /** Oldest first, the most recent few hundred. */
  events: ConnectionEvent[];
  roundTrips: RoundTrip[];
}

export interface EmbeddedServerStatus {
  running: boolean;
  controlAddress?: string;
  publicBaseUrl?: string;
  /** Demo backends to point tunnels at. */
  demoTargets?: { http: string; websocket: string; grpc: string };
  error?: string;
}

export type RequestState = 'in-flight' | 'done' | 'error';

export interface RequestSummary {
  requestId: string;
  tunnel: string;
  protocol: TrafficProtocol;
  method: string;
  path: string;
  /** HTTP status: the service's, or the one the tunnel answered with when it failed first. */
  status?: number;
  /** gRPC calls: grpc-status from the trailers (or a trailers-only answer), or the one the tunnel answered with. */
  grpcStatus?: number;
  state: RequestState;
  /** When the agent got it from the edge (unix ms). */
  startedAt: number;
  /** From startedAt to the end. */
  durationMs?: number;
  /** Timing before startedAt: how long the edge held the request before sending it to the agent. */
  edgeWaitMs?: number;
  /** The public client's HTTP version ("1.0", "1.1", "2.0"), when the edge said. */
  httpVersion?: string;
  /** From startedAt to the local service's response head (its first byte). */
  firstByteMs?: number;
  bytesIn: number;
  bytesOut: number;
  error?: { code: string; message: string };
  /** WebSocket frames or gRPC messages seen so far. */
  messageCount: number;
  /** Set on a replay: the request it repeats. */
  replayOf?: string;
}

export interface BodyPreview {
  /** Base64 of at most the first `capBytes` bytes. */
  base64: string;
  totalBytes: number;
  truncated: boolean;
  /** True when the bytes were let go to keep the traffic log within its memory budget. */
  released?: boolean;
  contentType?: string;
}

/** A kept body made readable for the detail view (see getBody). */
export interface BodyContent extends BodyPreview {
  /** Bytes the log kept of the body as sent. */
  keptBytes: number;
  /** content-encoding as sent (gzip, deflate, br...), when one was. */
  encoding?: string;
  /** Set when `base64` holds the decoded bytes: how many. */
  decodedBytes?: number;
  /** Why the body could not be decoded; `base64` is then the body as sent. */
  decodeError?: string;
  /** Fields of an application/x-www-form-urlencoded body. */
  form?: HeaderPair[];
  /** Parts of a multipart/form-data body, as far as the kept bytes go. */
  parts?: BodyPart[];
  partsError?: string;
}

export interface BodyPart {
  name: string;
  fileName?: string;
  contentType?: string;
  size: number;
  /** Base64 of the part's first bytes. */
  base64: string;
  truncated?: boolean;
}

/** A gRPC call's kept messages decoded (see decodeGrpcMessages). */
export interface GrpcDecoding {
  schema: {
    /** Where the schema came from: the service's own reflection, a file the user gave the tunnel, or none. */
    source: 'reflection' | 'file' | 'none';
    /** In words: the service or file it came from, or why there is none. */
    detail: string;
  };
  messages: DecodedMessage[];
}

export interface DecodedMessage {
  direction: 'to-service' | 'to-client';
  index: number;
  /** The message as JSON by its method's type (proto3 JSON mapping). */
  json?: string;
  /** Without a schema (or when the bytes did not fit it): fields by number, as `protoc --decode_raw` prints them. */
  raw?: string;
  /** Why it could not be decoded, or decoded only by field numbers. */
  error?: string;
}

export interface MessageView {
  direction: 'to-service' | 'to-client';
  at: number;
  size: number;
  /** WebSocket opcode, or 0 for a gRPC message. */
  opcode: number;
  /** 0-based index among this request's messages in this direction. */
  index: number;
  /** Base64 of a capped preview. */
  previewBase64: string;
  closeCode?: number;
  closeReason?: string;
  /** A WebSocket message sent from the inspector (sendWebSocketMessage), not by either end. */
  injected?: boolean;
  /** A gRPC message sent compressed, by its direction's grpc-encoding. */
  compressed?: boolean;
}

/** One message's kept bytes (see getMessageData). */
export interface MessageData {
  base64: string;
  /** The message's whole size; more than the kept bytes when `truncated`. */
  size: number;
  truncated: boolean;
}

/** Where sendWebSocketMessage sends: to the local service, or to the public client as if the service sent it. */
export type WebSocketSendTarget = 'service' | 'client';

export interface RequestDetail extends RequestSummary {
  requestHeaders: HeaderPair[];
  responseHeaders: HeaderPair[];
  /** The response's trailers. */
  trailers: HeaderPair[];
  /** Trailers the client sent after the request body. */
  requestTrailers: HeaderPair[];
  requestBody: BodyPreview;
  responseBody: BodyPreview;
  messages: MessageView[];
  /** True when older messages were dropped to keep memory bounded. */
  messagesTruncated: boolean;
}

export interface ThroughputPoint {
  /** Start of the one-second bucket, unix ms. */
  at: number;
  /** Requests started in the second. */
  requests: number;
  /** Requests that ended failed in the second: an error the tunnel answered, a 5xx from the service, a gRPC status other than OK. */
  errors: number;
  bytesIn: number;
  bytesOut: number;
  openStreams: number;
  /** Duration percentiles (ms) of the requests that ended in the second, WebSockets aside; absent when none ended. */
  latencyMs?: { p50: number; p95: number; p99: number };
}

export interface StatsSnapshot {
  total: ThroughputPoint[];
  perTunnel: Record<string, ThroughputPoint[]>;
}

export interface TrafficBatch {
  /** Requests that started or changed since the last batch (latest state). */
  updated: RequestSummary[];
  /** Set when the log was cleared before these updates. */
  cleared: boolean;
  /** Requests cleared one by one (a clear of what a filter showed) before these updates. */
  removed?: string[];
  /** The oldest requests, dropped to keep the log within its limit: gone from the list (they stayed, and would not open), a detail open on one stays. */
  evicted?: string[];
}

export interface ClearTrafficInput {
  /** Only these requests (those a filter shows); every request when absent. */
  requestIds?: string[];
}

export interface CreateTunnelInput {
  name: string;
  protocol: TunnelProtocol;
  target: string;
  enabled?: boolean;
}

export interface ImportTunnelsInput {
  /** The file's name: its ending says the format (ngrok .yml, frpc .toml or .ini). */
  fileName: string;
  text: string;
}

export interface ImportReport {
  /** What the file was read as. */
  kind: 'ngrok' | 'frpc-toml' | 'frpc-ini';
  /** Tunnels added, switched off until the user turns them on. */
  created: TunnelView[];
  /** Tunnels and settings that could not be carried over, and why. */
  notMapped: { what: string; why: string }[];
}

export interface UpdateTunnelInput {
  id: string;
  name?: string;
  protocol?: TunnelProtocol;
  target?: string;
}

/** Commands: request -> response. Every command takes exactly one argument. */
export interface AppCommands {
  listTunnels(input: void): TunnelView[];
  createTunnel(input: CreateTunnelInput): TunnelView;
  updateTunnel(input: UpdateTunnelInput): TunnelView;
  removeTunnel(input: { id: string }): { removed: boolean };
  setTunnelEnabled(input: { id: string; enabled: boolean }): TunnelView;
  getSettings(input: void): Settings;
  updateSettings(input: Partial<Settings>): Settings;
  getAgentStatus(input: void): AgentStatus;
  getEmbeddedServer(input: void): EmbeddedServerStatus;
  startEmbeddedServer(input: void): EmbeddedServerStatus;
  stopEmbeddedServer(input: void): EmbeddedServerStatus;
  listRequests(input: { limit?: number }): RequestSummary[];
  getRequestDetail(input: { requestId: string }): RequestDetail | null;
  /** A request's or response's kept body, decoded and parsed for display. */
  getBody(input: { requestId: string; side: 'request' | 'response' }): BodyContent;
  /** A gRPC call's kept messages as JSON, by the schema the service serves by reflection or one given with loadGrpcSchema. */
  decodeGrpcMessages(input: { requestId: string; refresh?: boolean }): GrpcDecoding;
  /** Gives a tunnel the schema of its gRPC service: a .proto file (its text) or a descriptor set (buf build, protoc -o). */
  loadGrpcSchema(input: { tunnel: string; fileName: string; base64: string }): { fileName: string; services: string[] };
  /** Ids of the requests whose headers, trailers or kept bodies contain the text (ignoring case). */
  searchRequests(input: { text: string }): { requestIds: string[] };
  clearTraffic(input: ClearTrafficInput | void): { cleared: number };
  getStats(input: void): StatsSnapshot;
  getConnectionLog(input: void): ConnectionLog;
  importTunnels(input: ImportTunnelsInput): ImportReport;
  /** These requests (every one kept when absent) as a HAR 1.2 log. */
  exportHar(input: { requestIds?: string[] }): Har;
  /** Shows the requests of a HAR file (its text) in the inspector, beside live traffic. */
  importHar(input: { text: string }): { imported: number; skipped: string[] };
  /** Sends an HTTP request (as it was or edited) or a gRPC call with one request message again through its tunnel's public URL; the new request is linked to it. */
  replayRequest(input: { requestId: string; edit?: ReplayEdit }): ReplayResult;
  /** A request as code that sends it again. */
  requestSnippet(input: { requestId: string; target: SnippetTarget }): RequestSnippet;
  /** Sends one text (or, as base64, binary) message into an open WebSocket, under the tunnel's message limit. */
  sendWebSocketMessage(input: { requestId: string; to: WebSocketSendTarget; text?: string; base64?: string }): { bytes: number };
  /** A WebSocket frame's or gRPC message's kept bytes, more than the detail's preview. */
  getMessageData(input: { requestId: string; direction: MessageView['direction']; index: number }): MessageData;
  /** A WebSocket's frames or a gRPC call's messages as kept, as a JSON file. */
  exportMessages(input: { requestId: string }): { fileName: string; text: string };
  /** The messages of a request whose kept bytes (or close reason) contain the text, ignoring case: more than the previews hold. */
  searchMessages(input: { requestId: string; text: string }): { matches: Pick<MessageView, 'direction' | 'index'>[] };
}

/** curl, fetch and HTTPie for HTTP requests; grpcurl for gRPC calls. */
export type SnippetTarget = 'curl' | 'fetch' | 'httpie' | 'grpcurl';

/** Changes for "edit and resend"; what is absent is sent as it was. */
export interface ReplayEdit {
  method?: string;
  /** Path and query, starting with "/". */
  path?: string;
  /** Replace every request header (Host and lengths are made again). */
  headers?: HeaderPair[];
  /** Text body, sent as UTF-8. */
  body?: string;
}

export interface ReplayResult {
  /** The HTTP status the replay got (200 for a gRPC call that got a gRPC status). */
  status: number;
  /** A gRPC call's replay: the gRPC status it got. */
  grpcStatus?: number;
  /** The new request in the traffic log, when it is there. */
  requestId?: string;
}

export interface RequestSnippet {
  snippet: string;
  /** Set when the snippet cannot send the original body in full (cut, let go, binary). */
  warning?: string;
}

/** Events: main -> UI. */
export interface AppEvents {
  agentStatus: AgentStatus;
  tunnels: TunnelView[];
  traffic: TrafficBatch;
  stats: ThroughputPoint & { perTunnel: Record<string, ThroughputPoint> };
  embeddedServer: EmbeddedServerStatus;
  connectionEvent: ConnectionEvent;
  roundTrip: RoundTrip;
  /** Main asks the UI to show a view. */
  showView: AppView;
}

export type CommandName = keyof AppCommands;
export type EventName = keyof AppEvents;
export type CommandInput<K extends CommandName> = Parameters<AppCommands[K]>[0];
export type CommandOutput<K extends CommandName> = ReturnType<AppCommands[K]>;

/** A command's outcome as it crosses a transport: errors are values with a stable code. */
export type CommandResult<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

// Records keyed by the interfaces make the compiler reject a missing or extra name.
const commandKeys: Record<CommandName, true> = {
  listTunnels: true,
  createTunnel: true,
  updateTunnel: true,
  removeTunnel: true,
  setTunnelEnabled: true,
  getSettings: true,
  updateSettings: true,
  getAgentStatus: true,
  getEmbeddedServer: true,
  startEmbeddedServer: true,
  stopEmbeddedServer: true,
  listRequests: true,
  getRequestDetail: true,
  getBody: true,
  decodeGrpcMessages: true,
  loadGrpcSchema: true,
  clearTraffic: true,
  searchRequests: true,
  getStats: true,
  getConnectionLog: true,
  importTunnels: true,
  exportHar: true,
  importHar: true,
  replayRequest: true,
  requestSnippet: true,
  sendWebSocketMessage: true,
  getMessageData: true,
  exportMessages: true,
  searchMessages: true,
};
const eventKeys: Record<EventName, true> = { agentStatus: true, tunnels: true, traffic: true, stats: true, embeddedServer: true, connectionEvent: true, roundTrip: true, showView: true };

/** The largest HAR file importHar takes (a browser's HAR of a busy page is tens of MB). */
export const maxHarImportBytes = 64 * 1024 * 1024;

/** Why a HAR file of `bytes` is not imported: said by the page before it sends one, and by main. */
export const harTooLarge = (bytes: number): string => `the HAR file is ${(bytes / 1024 / 1024).toFixed(1)} MiB: at most ${maxHarImportBytes / 1024 / 1024} MiB can be imported`;

export const commandNames = Object.keys(commandKeys) as CommandName[];
export const eventNames = Object.keys(eventKeys) as EventName[];

/** Electron IPC channel names, derived. */
export const commandChannel = (name: CommandName): string => `burrow:command:${name}`;
export const eventChannel = (name: EventName): string => `burrow:event:${name}`;

/** Every command as an async function: what AppService implements, and what the UI calls. */
export type AppCommandHandlers = {
  [K in CommandName]: (input: CommandInput<K>) => Promise<CommandOutput<K>>;
};

/** What the UI sees, whatever the transport: async commands and event subscriptions. */
export type BurrowApi = AppCommandHandlers & {
  on<E extends EventName>(event: E, listener: (payload: AppEvents[E]) => void): () => void;
};
