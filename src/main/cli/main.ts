// The `burrow` command line. A contract used by tests outside this repo:
// see DESIGN.md "Processes and the CLI".
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { Command, CommanderError, Option } from 'commander';
import { caFileProblem } from '../service/ca-file.js';
import type { TunnelProtocol } from '../tunnel/agent/tunnel-agent.js';
import { defaultDrainTimeoutMs, longestTimerMs } from '../tunnel/config.js';
import { addressList, parseHostPort } from '../tunnel/host-port.js';
import { checkTunnelFields, type TunnelFieldError } from '../tunnel/tunnel-fields.js';
import { defaultAdminAddress } from './admin-flags.js';
import type { runAgent as RunAgent } from './agent-command.js';
import { readAgentConfig } from './config-file.js';
import type { runDemo as RunDemo } from './demo-command.js';
import { outliveOutputReaders, quietLibraryWarnings } from './lifecycle.js';
import { logFormats, logLevels } from './logger.js';
import type { runServer as RunServer } from './server-command.js';
import { UsageError, collect, domainName, hostPort, positiveInteger, wholeNumber } from './usage-error.js';

/** What an HTTP/2 setting and the tunnel's protobuf fields hold. */
const uint32Max = 2 ** 32 - 1;
/** 16 MiB: Node's parser is given twice the limit and more (request-head-size.ts), well within its and HTTP/2's. */
const maxHeaderBytesFlag = 16 * 1024 * 1024;

const defaultControl = '127.0.0.1:7835';

// Each command's code loads when that command runs: an edge never loads the
// agent's inspector, gRPC decoding and demo services, nor an agent the
// edge's (the server's RSS at rest 3-4 MiB lower).
const runServer: typeof RunServer = async (...args) => (await import('./server-command.js')).runServer(...args);
const runAgent: typeof RunAgent = async (...args) => (await import('./agent-command.js')).runAgent(...args);
const runDemo: typeof RunDemo = async (...args) => (await import('./demo-command.js')).runDemo(...args);

interface AgentFlags {
  /** One address, or several separated by commas. */
  server: string;
  ha?: number;
  token?: string;
  inspect: string | false;
  tls?: boolean;
  ca?: string;
  insecure?: boolean;
  drainTimeout?: number;
}

function checkedAgentFlags(opts: AgentFlags): AgentFlags {
  if (opts.ca !== undefined && opts.insecure) throw new UsageError('--ca and --insecure contradict each other');
  const caProblem = opts.ca === undefined ? undefined : caFileProblem(opts.ca);
  if (caProblem !== undefined) throw new UsageError(`--ca: ${caProblem}`);
  return opts;
}

function agentOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--server <host:port>', 'tunnel server control address; repeat, or separate by commas, for edges of one cluster')
        .default(defaultControl)
        .argParser(serverAddresses),
    )
    .addOption(new Option('--ha <n>', 'edges to hold at once when several are known (default 2 then)').argParser(positiveInteger('--ha')))
    .option('--token <token>', 'agent token (default: $BURROW_TOKEN)')
    .option('--tls', 'connect to the server over TLS, verifying its certificate')
    .option('--ca <file>', 'trust this PEM certificate for the server (implies --tls)')
    .option('--insecure', 'TLS without verifying the server certificate (implies --tls)')
    .addOption(new Option('--inspect <host:port>', 'serve the web inspector here').default('127.0.0.1:4040').argParser(hostPort('--inspect')))
    .option('--no-inspect', 'do not serve the web inspector')
    .addOption(adminOption('agent'))
    .addOption(adminTokenOption())
    .addOption(drainTimeoutOption());
}

/** Each --server adds its addresses (comma-separated) to those of the --server before it; the default is only a default. */
function serverAddresses(value: string, previous: string): string {
  const check = hostPort('--server');
  const added = addressList(value).map(check);
  if (added.length === 0) throw new UsageError(`--server must be HOST:PORT, got "${value}"`);
  // Port 0 means any port to a listener; to connect to, it means nothing, and the agent retried it for ever.
  const anyPort = added.find((address) => parseHostPort(address).port === 0);
  if (anyPort !== undefined) throw new UsageError(`--server needs the server's control port (1-65535), got "${anyPort}"`);
  const earlier = previous === defaultControl ? [] : addressList(previous);
  return [...earlier, ...added].join(', ');
}

function redisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not echoed: the URL may carry Redis's password.
    throw new UsageError('--cluster must be a URL like redis://HOST:PORT');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`--cluster must be a redis:// or rediss:// URL, not ${url.protocol}`);
  return value;
}

function adminOption(command: keyof typeof defaultAdminAddress): Option {
  return new Option('--admin [host:port]', `serve /metrics, /healthz, /readyz and /api/tunnels (bare: ${defaultAdminAddress[command]})`)
    .preset(defaultAdminAddress[command])
    .argParser(hostPort('--admin'));
}

function drainTimeoutOption(): Option {
  return new Option('--drain-timeout <ms>', `on SIGINT/SIGTERM, let requests under way finish for up to this long; a second signal stops at once (default ${defaultDrainTimeoutMs}; 0: at once)`).argParser(
    wholeNumber('--drain-timeout', longestTimerMs),
  );
}

function adminTokenOption(): Option {
  return new Option('--admin-token <token>', 'Bearer token for /metrics and /api/* (default: $BURROW_ADMIN_TOKEN); needed off loopback');
}

function tunnelCommand(protocol: TunnelProtocol, description: string): Command {
  return agentOptions(
    new Command(protocol)
      .description(description)
      .exitOverride()
      .argument('<target>', 'local service: PORT or HOST:PORT')
      .option('--name <name>', 'tunnel name, served as NAME.DOMAIN (default: picked by the server)'),
  ).action(async (target: string, opts: AgentFlags & { name?: string }) => {
    try {
      checkTunnelFields({ name: opts.name, protocol, target });
    } catch (error) {
      const { field, message } = error as TunnelFieldError;
      throw new UsageError(field === 'name' ? `--${message}` : message);
    }
    await runAgent([{ name: opts.name, protocol, target }], checkedAgentFlags(opts));
  });
}

outliveOutputReaders();
quietLibraryWarnings();
// grpc-js writes its own errors on stderr ("E No address added out of total 1 resolved"), each of which the command
// tells once, in its words: quiet unless GRPC_VERBOSITY asks for them.
if (process.env.GRPC_VERBOSITY === undefined) setLogVerbosity(logVerbosity.NONE);

// Subcommands copy these settings when they are made: set them first, so every bad argument exits 2 with usage.
const program = new Command('burrow')
  .description('Expose local HTTP, WebSocket and gRPC services through a tunnel server')
  .version('0.1.0')
  .exitOverride();

program
  .command('server')
  .description('run a tunnel server (the public edge)')
  .addOption(new Option('--control <host:port>', 'address agents connect to').default(defaultControl).argParser(hostPort('--control')))
  .addOption(new Option('--public <host:port>', 'address public traffic arrives on').default('127.0.0.1:8080').argParser(hostPort('--public')))
  .addOption(new Option('--domain <domain>', 'tunnel NAME is served as NAME.DOMAIN').default('localhost').argParser(domainName('--domain')))
  .option('--token <token>', 'accepted agent token, may claim any name; repeat for several (default: $BURROW_TOKEN)', collect)
  .option('--tokens-file <file>', 'YAML list of named tokens and the tunnel names each may claim')
  .addOption(new Option('--max-inflight <n>', 'in-flight public requests before 503').argParser(positiveInteger('--max-inflight')))
  .addOption(
    new Option('--max-inflight-per-agent <n>', 'in-flight requests per agent before 503').argParser(
      positiveInteger('--max-inflight-per-agent'),
    ),
  )
  .addOption(new Option('--max-body <bytes>', 'request body limit per request on every tunnel, else 413').argParser(positiveInteger('--max-body')))
  .addOption(new Option('--max-header-bytes <bytes>', 'request head limit, else 431 (default 32768)').argParser(positiveInteger('--max-header-bytes', maxHeaderBytesFlag, 1024)))
  .addOption(new Option('--header-timeout <ms>', 'a client must send its request head within this (default 15000)').argParser(positiveInteger('--header-timeout', longestTimerMs)))
  .addOption(new Option('--idle-timeout <ms>', 'close public connections idle this long (default 60000)').argParser(positiveInteger('--idle-timeout', longestTimerMs)))
  .addOption(new Option('--rate-limit <n>', 'requests per second per tunnel, else 429').argParser(positiveInteger('--rate-limit')))
  .addOption(new Option('--request-timeout <ms>', 'wait this long for a response head after the request last made progress, else 504 (default 30000)').argParser(positiveInteger('--request-timeout', longestTimerMs)))
  .addOption(
    new Option('--max-websocket-message <bytes>', 'largest WebSocket message either way, else close 1009 (default 67108864)').argParser(
      positiveInteger('--max-websocket-message', uint32Max),
    ),
  )
  .addOption(
    new Option('--max-streams-per-connection <n>', 'concurrent streams per public HTTP/2 connection (default 128)').argParser(
      positiveInteger('--max-streams-per-connection', uint32Max),
    ),
  )
  .option('--tls-cert <file>', 'PEM certificate: serve both ports over TLS (public: ALPN h2 and http/1.1)')
  .option('--tls-key <file>', 'PEM private key for --tls-cert')
  .option('--dev-tls', 'serve TLS with certificates from a local authority made at start, one per tunnel name (its printed path: give it to agents with --ca, clients with --cacert)')
  .addOption(
    new Option('--restart-grace <ms>', 'for this long after start, answer a name no agent holds 502 with Retry-After (gRPC UNAVAILABLE), not 404, while agents reconnect after a restart (default 0: none)').argParser(
      wholeNumber('--restart-grace', longestTimerMs),
    ),
  )
  .addOption(new Option('--heartbeat-interval <ms>', 'heartbeat period; a peer silent for 3 periods is dead').argParser(positiveInteger('--heartbeat-interval', Math.floor(longestTimerMs / 3), 100)))
  .addOption(adminOption('server'))
  .addOption(adminTokenOption())
  .addOption(drainTimeoutOption())
  .addOption(new Option('--log-format <format>', 'log lines as readable text or one JSON object each').choices(logFormats).default('text'))
  .addOption(new Option('--log-level <level>', 'least severe log lines written').choices(logLevels).default('info'))
  .addOption(new Option('--access-log [file]', 'one line per public request, with the other logs or appended to FILE'))
  .option(
    '--trust-forwarded <addresses>',
    'peers whose X-Forwarded-*, Forwarded and X-Real-IP reach services (a TLS load balancer in front): addresses, CIDR ranges, loopback, private or none; repeat, or separate by commas (default: loopback)',
    collect,
  )
  .addOption(new Option('--cluster <redis-url>', 'share tunnel names and rate limits with the other edges through Redis (redis://HOST:PORT)').argParser(redisUrl))
  .addOption(new Option('--advertise <host:port>', 'with --cluster: where agents and the other edges reach this edge\'s control port').argParser(hostPort('--advertise')))
  .action(runServer);

program.addCommand(tunnelCommand('http', 'tunnel HTTP and WebSocket traffic to a local service'));
program.addCommand(tunnelCommand('grpc', 'tunnel gRPC traffic to a local service'));

agentOptions(program.command('start').description('run several tunnels from a config file'))
  .option('--config <file>', 'YAML file with server, token and tunnels', 'burrow.yaml')
  .action(async (opts: AgentFlags & { config: string }, command: Command) => {
    const file = readAgentConfig(opts.config);
    for (const note of file.ignored) process.stderr.write(`burrow: ${note}\n`);
    const serverFromFlag = command.getOptionValueSource('server') === 'cli';
    await runAgent(file.tunnels, { ...checkedAgentFlags(opts), server: serverFromFlag ? opts.server : (file.server ?? opts.server), token: opts.token ?? file.token });
  });

program
  .command('demo')
  .description('try Burrow locally: embedded server, demo backends and an agent')
  .addOption(new Option('--public <host:port>', 'address public traffic arrives on').default('127.0.0.1:8080').argParser(hostPort('--public')))
  .addOption(new Option('--inspect <host:port>', 'serve the web inspector here').default('127.0.0.1:4040').argParser(hostPort('--inspect')))
  .option('--no-inspect', 'do not serve the web inspector')
  .action(runDemo);

// Bad arguments: the command's usage line after the error (DESIGN.md: "exit 2 with usage"), not all of --help.
for (const command of [program, ...program.commands]) command.showHelpAfterError(usageOf(command));

/** A command's usage line, and where the rest is. */
function usageOf(command: Command): string {
  const name = command === program ? 'burrow' : `burrow ${command.name()}`;
  return `usage: ${name} ${command.usage()}\n(run ${name} --help for all of it)`;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed the message.
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  if (error instanceof UsageError) {
    // Thrown by the command named first, whose flags were being read.
    const command = program.commands.find((each) => each.name() === process.argv[2]) ?? program;
    process.stderr.write(`burrow: ${error.message}\n${usageOf(command)}\n`);
    process.exit(2);
  }
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(`burrow: ${code === 'EADDRINUSE' ? `address already in use: ${(error as Error).message}` : (error as Error).message}\n`);
  process.exit(1);
}
