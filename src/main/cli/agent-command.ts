// `burrow http`, `burrow grpc` and `burrow start`: run an agent until stopped.
import { AgentState, TunnelAgent, type TunnelSpec } from '../tunnel/agent/tunnel-agent.js';
import { ErrorCode } from '../tunnel/errors.js';
import { log, stopOnSignals } from './lifecycle.js';

export interface AgentCommandOptions {
  server: string;
  token?: string;
  inspect?: string | false;
}

/** Tunnel registration errors that retrying cannot fix. */
const finalRegistrationErrors = new Set<string>([ErrorCode.NameTaken, ErrorCode.BadName]);

export function runAgent(tunnels: TunnelSpec[], options: AgentCommandOptions): TunnelAgent {
  const agent = new TunnelAgent({ server: options.server, token: options.token ?? process.env.BURROW_TOKEN, tunnels });
  const announced = new Set<string>();
  agent.on('tunnel-live', (tunnel) => {
    if (announced.has(tunnel.name)) {
      log(`tunnel ${tunnel.name}: back online`);
      return;
    }
    announced.add(tunnel.name);
    process.stdout.write(`tunnel ${tunnel.name}: ${tunnel.publicUrl} -> ${tunnel.protocol === 'grpc' ? 'grpc' : 'http'}://${tunnel.target}\n`);
  });
  agent.on('tunnel-error', (name, code, message) => {
    if (finalRegistrationErrors.has(code)) {
      log(`burrow: tunnel ${name}: ${message}`);
      agent.stop();
      process.exit(1);
    }
    if (code !== ErrorCode.TunnelOffline) log(`tunnel ${name}: ${message} (${code})`);
  });
  agent.on('state', (state, detail) => {
    if (state === AgentState.Backoff) log(`burrow: ${detail}`);
  });
  agent.on('fatal', (error) => {
    log(`burrow: ${error.message}`);
    process.exit(1);
  });
  stopOnSignals(() => agent.stop());
  agent.start();
  return agent;
}
