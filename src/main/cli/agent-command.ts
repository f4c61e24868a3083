// `burrow http`, `burrow grpc`, `burrow start` and `burrow demo`: an
// in-memory AppService running the agent, plus the web inspector unless
// --no-inspect. Prints one line per tunnel once it is live.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TunnelConfig, TunnelView } from '../../shared/contract.js';
import { InspectorServer } from '../inspector/inspector-server.js';
import { AppService } from '../service/app-service.js';
import { headlessTrafficLogLimits, unwatchedTrafficLogLimits, type TrafficLogLimits } from '../service/traffic-log.js';
import type { TunnelSpec } from '../tunnel/agent/tunnel-agent.js';
import { defaultDrainTimeoutMs } from '../tunnel/config.js';
import { parseHostPort } from '../tunnel/host-port.js';
import { ErrorCode } from '../tunnel/errors.js';
import { adminAddress, startAdmin, type AdminFlags } from './admin-flags.js';
import { keepHeapHeadroom } from './heap-headroom.js';
import { reclaimMemoryWhenIdle } from './idle-memory.js';
import { cutLine, drainLine, log, stopOnSignals } from './lifecycle.js';

export interface AgentCommandOptions extends AdminFlags {
  /** One address, or several separated by commas (edges of one cluster). */
  server: string;
  /** Edges to hold at once when several are known. */
  ha?: number;
  token?: string;
  /** host:port for the web inspector, or false. */
  inspect?: string | false;
  /** How long a stop waits for requests under way (0: cut at once). */
  drainTimeout?: number;
  tls?: boolean;
  ca?: string;
  insecure?: boolean;
}

/** Tunnel registration errors that retrying cannot fix. */
const finalRegistrationErrors = new Set<string>([ErrorCode.NameTaken, ErrorCode.BadName, ErrorCode.NameNotAllowed]);

/** How many ports after the requested one to try when it is taken (as ngrok does from 4040). */
const inspectorPortAttempts = 10;

/** The package root, found upwards from this file: it runs from src/main/cli or from the out/cli bundle. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const rendererDir = join(packageRoot(), 'out/renderer');

/** What the headless agent keeps of its traffic: a small budget for its inspector, only metadata without one. */
export function trafficLimitsFor(inspect: string | false | undefined): TrafficLogLimits {
  return inspect ? headlessTrafficLogLimits : unwatchedTrafficLogLimits;
}

export async function runAgent(tunnels: TunnelSpec[], options: AgentCommandOptions, service?: AppService): Promise<AppService> {
  const admin = adminAddress(options);
  const token = options.token ?? process.env.BURROW_TOKEN ?? '';
  const app =
    service ??
    (await AppService.open({
      initial: {
        settings: {
          serverAddress: options.server,
          token,
          tls: options.insecure ? 'insecure' : options.tls || options.ca !== undefined ? 'verify' : 'off',
          caFile: options.ca ?? '',
          embeddedServer: false,
          embeddedPublicPort: 0,
        },
        tunnels: tunnels.map((t) => ({ id: t.id ?? randomUUID(), name: t.name ?? '', protocol: t.protocol, target: t.target, enabled: true })),
      },
      log,
      ha: options.ha,
      trafficLimits: trafficLimitsFor(options.inspect),
    }));
  const announced = new Set<string>();
  const reported = new Map<string, string>();
  // What the command line asked for ends the process when the server refuses it for good (exit 1, as the
  // contract has it); what the inspector changed since is the inspector's to show, with the process kept.
  const asGiven = (view: TunnelConfig): string => JSON.stringify([view.name, view.protocol, view.target]);
  const tunnelsAsGiven = new Map((await app.listTunnels()).map((view) => [view.id, asGiven(view)]));
  let settingsAsGiven = true;
  app.on('settingsChanged', () => (settingsAsGiven = false));
  const refusedForGood = new Set<string>();
  const onTunnels = (views: TunnelView[]): void => {
    for (const view of views) {
      if (view.status === 'online' && view.publicUrl !== undefined && !announced.has(view.id)) {
        announced.add(view.id);
        const name = new URL(view.publicUrl).hostname.split('.')[0];
        process.stdout.write(`tunnel ${name}: ${view.publicUrl} -> ${view.protocol === 'grpc' ? 'grpc' : 'http'}://${normalizeTarget(view.target)}\n`);
      }
      if (view.status === 'error' && view.error !== undefined && finalRegistrationErrors.has(view.error.code)) {
        const line = `burrow: tunnel ${view.name || '(unnamed)'}: ${view.error.message} (${view.error.code})`;
        // With its code, as the README promises: outside tests look for it.
        if (!refusedForGood.has(line)) log(line);
        refusedForGood.add(line);
        if (settingsAsGiven && tunnelsAsGiven.get(view.id) === asGiven(view)) process.exit(1);
      }
      if (view.error?.code === ErrorCode.ClusterUnavailable && reported.get(view.id) !== view.error.message) {
        reported.set(view.id, view.error.message);
        log(`burrow: tunnel ${view.name || '(unnamed)'}: ${view.error.message}; retrying`);
      }
    }
  };
  app.on('tunnels', onTunnels);
  onTunnels(await app.listTunnels());
  let retrying = false;
  app.on('agentStatus', (status) => {
    if (status.state === 'backoff') log(`burrow: ${status.detail}`);
    // Said once it is back: the retry lines were the last word, and the tunnel lines are printed only the first time.
    if (status.state === 'ready' && retrying) log(`burrow: connected to the server at ${status.server}`);
    retrying = status.state === 'backoff' || (retrying && status.state === 'connecting');
  });
  app.on('fatal', (code, message) => {
    const tokenless = code === ErrorCode.Unauthenticated && token === '';
    log(`burrow: ${tokenless && settingsAsGiven ? 'the server requires a token, and none was given (--token or $BURROW_TOKEN)' : message} (${code})`);
    if (settingsAsGiven) process.exit(1);
  });
  let inspector: InspectorServer | undefined;
  if (options.inspect) inspector = await startInspector(options.inspect, app);
  const adminServer = admin === undefined ? undefined : await startAdmin(admin, new (await import('../admin/agent-metrics.js')).AgentMetrics(app));
  if (adminServer !== undefined) process.stdout.write(`admin: ${adminServer.url} (/metrics /healthz /readyz /api/tunnels)\n`);
  keepHeapHeadroom();
  reclaimMemoryWhenIdle();
  stopOnSignals(async () => {
    const drainMs = options.drainTimeout ?? defaultDrainTimeoutMs;
    const cut = await app.close(drainMs, (underWay) => {
      const line = drainLine(underWay, drainMs);
      if (line !== undefined) log(`burrow: ${line}`);
    });
    const line = cutLine(cut);
    if (line !== undefined) log(`burrow: ${line}`);
    await adminServer?.stop();
    await inspector?.stop();
  });
  return app;
}

async function startInspector(address: string, service: AppService): Promise<InspectorServer | undefined> {
  const { host, port } = parseHostPort(address);
  const ui = existsSync(rendererDir) ? rendererDir : undefined;
  for (let attempt = 0; attempt < inspectorPortAttempts; attempt++) {
    try {
      const inspector = await InspectorServer.start({ host, port: port === 0 ? 0 : port + attempt, service, rendererDir: ui });
      process.stdout.write(`inspector: ${inspector.url}\n`);
      return inspector;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) {
        log(`burrow: inspector not started: ${(error as Error).message}`);
        return undefined;
      }
    }
  }
  log(`burrow: inspector not started: ports ${port}-${port + inspectorPortAttempts - 1} are all in use (use --inspect HOST:PORT)`);
  return undefined;
}

/** "3000" reads as 127.0.0.1:3000, as the agent forwards it. */
function normalizeTarget(target: string): string {
  return /^\d+$/.test(target.trim()) ? `127.0.0.1:${target.trim()}` : target.trim();
}
