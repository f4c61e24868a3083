// The `burrow` command line as DESIGN.md specifies it; tests outside this
// repo rely on exactly this behaviour.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { buildApi } from '../../src/shared/contract-client.js';
import { webSocketTransport } from '../../src/shared/websocket-transport.js';
import { eventually, eventuallyAsync, holdPort, publicRequest, spawnCli, spawnCliServer, startBackend, type Backend, type CliProcess } from '../helpers/common.js';
import { scratchDirectory } from '../helpers/scratch.js';

const started: CliProcess[] = [];
function cli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const p = spawnCli(args, env);
  started.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill()));
});

describe('argument errors exit 2 with usage', () => {
  it.each([
    [['http']],
    [['http', '99999']],
    [['http', '3000', '--name', 'Not_Valid']],
    [['http', '3000', '--server', 'nohostport']],
    [['server', '--public', 'nope']],
    [['server', '--max-inflight', '-1']],
    // --dev-tls names its files after the domain: ../x wrote outside its folder.
    [['server', '--domain', '../../tmp/x']],
    [['server', '--domain', 'a b']],
    // Past a timer's, an HTTP/2 setting's or the tunnel messages' range, each broke the server later, not at start.
    [['server', '--header-timeout', '2147483648']],
    [['server', '--idle-timeout', '2147483648']],
    [['server', '--heartbeat-interval', '715827883']],
    [['server', '--max-header-bytes', '2147483136']],
    [['server', '--max-streams-per-connection', '4294967296']],
    [['server', '--max-websocket-message', '4294967296']],
    [['start', '--config', '/nonexistent/burrow.yaml']],
    [['http', '3000', '--ca', '/nonexistent/ca.pem']],
    // A directory exited 0 saying nothing; /dev/zero was read until memory ran out.
    [['http', '3000', '--ca', tmpdir()]],
    [['http', '3000', '--ca', '/dev/zero']],
    // No certificate in it: taken, and the server's certificate then reported as untrusted.
    [['http', '3000', '--ca', 'package.json']],
    [['server', '--tls-cert', '/nonexistent/cert.pem']],
    [['frobnicate']],
    [['server', '--bogus']],
    [['server', '--admin', '0.0.0.0:0']],
    [['server', '--admin', 'nohostport']],
    [['server', '--admin-token', 'T']],
    [['server', '--log-format', 'xml']],
    [['server', '--log-level', 'loud']],
    [['http', '3000', '--admin', '10.0.0.1:7836']],
    [['http', '3000', '--bogus']],
    [['server', '--cluster', 'not a url']],
    [['server', '--cluster', 'http://127.0.0.1:6379']],
    [['server', '--advertise', '127.0.0.1:7835']],
    [['server', '--cluster', 'redis://127.0.0.1:6379', '--control', '0.0.0.0:0']],
    [['server', '--cluster', 'redis://127.0.0.1:6379', '--advertise', 'nohostport']],
    [['http', '3000', '--ha', '0']],
    [['http', '3000', '--server', '127.0.0.1:7835,nohostport']],
    [['http', '3000', '--server', ',']],
    // Port 0 is any port to a listener; the agent retried it for ever.
    [['http', '3000', '--server', '127.0.0.1:0']],
    [['server', '--trust-forwarded', '10.0.0.0/33']],
    [['server', '--trust-forwarded', 'none', '--trust-forwarded', 'loopback']],
  ])('burrow %j', async (args) => {
    const p = cli(args);
    expect(await p.exited).toBe(2);
    // The usage line of the command named (the program's for none), as DESIGN.md has it.
    const named = ['server', 'http', 'grpc', 'start', 'demo'].includes(args[0]!) ? ` ${args[0]}` : '';
    expect(p.stderrLines.join('\n')).toMatch(new RegExp(`^usage: burrow${named} \\[options\\]`, 'm'));
  });
});

it('a bare --admin serves the server and an agent on ports of their own, so that one machine runs both', async () => {
  const helpOf = async (command: string): Promise<string> => {
    const p = cli([command, '--help']);
    expect(await p.exited).toBe(0);
    return p.stdoutLines.join(' ').replace(/\s+/g, ' ');
  };
  expect(await helpOf('server')).toContain('(bare: 127.0.0.1:7836)');
  expect(await helpOf('http')).toContain('(bare: 127.0.0.1:7837)');
});

it('exits 2 saying why when the access log cannot be written (it crashed once started)', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'burrow-access-log-'));
  try {
    const p = cli(['server', '--control', '127.0.0.1:0', '--public', '127.0.0.1:0', '--log-format', 'json', '--access-log', directory]);
    expect(await p.exited).toBe(2);
    expect(p.stderrLines.join('\n')).toContain(`cannot write the log file ${directory}: EISDIR`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

describe('server and agents', () => {
  let backend: Backend;
  let server: CliProcess;
  let control: string;
  let publicPort: number;

  beforeAll(async () => {
    backend = await startBackend((req, res) => res.end(`backend saw ${req.method} ${req.url}`));
    ({ process: server, control, publicPort } = await spawnCliServer(['--domain', 'localhost', '--token', 'alpha', '--token', 'beta']));
  });

  afterAll(async () => {
    await server.kill();
    await backend.close();
  });

  it('prints "tunnel NAME: URL -> TARGET" once live and serves traffic; BURROW_TOKEN is honoured', async () => {
    const agent = cli(['http', String(backend.port), '--name', 'app', '--server', control, '--no-inspect'], { BURROW_TOKEN: 'beta' });
    const line = await agent.waitForLine(/^tunnel app: /);
    expect(line).toBe(`tunnel app: http://app.localhost:${publicPort} -> http://127.0.0.1:${backend.port}`);
    const res = await publicRequest({ port: publicPort, host: `app.localhost:${publicPort}`, path: '/hi' });
    expect(res.body.toString()).toBe('backend saw GET /hi');
    expect(agent.stdoutLines.some((l) => l.startsWith('inspector:'))).toBe(false);
  });

  it('serves the web inspector with --inspect, showing requests by request_id', async () => {
    const agent = cli(['http', String(backend.port), '--name', 'seen', '--server', control, '--token', 'alpha', '--inspect', '127.0.0.1:0']);
    const inspectorLine = await agent.waitForLine(/^inspector: /);
    await agent.waitForLine(/^tunnel seen: /);
    const url = new URL(inspectorLine.slice('inspector: '.length));
    const token = new URLSearchParams(url.hash.slice(1)).get('token')!;
    expect(url.hostname).toBe('127.0.0.1');
    await publicRequest({ port: publicPort, host: 'seen.localhost', path: '/inspected' });
    const ws = new WebSocket(`ws://127.0.0.1:${url.port}/api?token=${token}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const api = buildApi(webSocketTransport(ws));
    await eventuallyAsync(async () => (await api.listRequests({})).some((r) => r.path === '/inspected' && r.state === 'done'), 'the request in the inspector');
    const [request] = (await api.listRequests({})).filter((r) => r.path === '/inspected');
    expect(request.requestId).toMatch(/^[0-9a-f-]{36}$/);
    ws.close();
  });

  it('picks a name when none is given', async () => {
    const agent = cli(['http', `127.0.0.1:${backend.port}`, '--server', control, '--token', 'alpha', '--no-inspect']);
    const line = await agent.waitForLine(/^tunnel /);
    const match = /^tunnel ([a-z0-9-]+): http:\/\/([a-z0-9-]+)\.localhost:(\d+) -> http:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
    expect(match).not.toBeNull();
    expect(match![2]).toBe(match![1]);
    const res = await publicRequest({ port: publicPort, host: `${match![1]}.localhost` });
    expect(res.status).toBe(200);
  });

  it('exits 1 with a one-line reason on a wrong token', async () => {
    const agent = cli(['http', String(backend.port), '--server', control, '--token', 'wrong', '--no-inspect']);
    expect(await agent.exited).toBe(1);
    expect(agent.stderrLines.filter((l) => l.trim() !== '')).toEqual(['burrow: authentication failed: the server rejected the token (BURROW_E_UNAUTHENTICATED)']);
  });

  it('exits 1 with its code when the name belongs to another agent', async () => {
    const owner = cli(['http', String(backend.port), '--name', 'taken', '--server', control, '--token', 'alpha', '--no-inspect']);
    await owner.waitForLine(/^tunnel taken: /);
    const second = cli(['http', String(backend.port), '--name', 'taken', '--server', control, '--token', 'alpha', '--no-inspect']);
    expect(await second.exited).toBe(1);
    expect(second.stderrLines.join('\n')).toMatch(/already in use.*\(BURROW_E_NAME_TAKEN\)$/);
  });

  // Found by an audit of the inspector's API: a tunnel it added with a taken name, or a token it set that the
  // server refused, ended the whole agent (exit 1), its other tunnels and the inspector with it.
  it('stays up when a tunnel or a token the inspector gave is refused, and serves again once it is mended', async () => {
    const owner = cli(['http', String(backend.port), '--name', 'held', '--server', control, '--token', 'alpha', '--no-inspect']);
    await owner.waitForLine(/^tunnel held: /);
    const agent = cli(['http', String(backend.port), '--name', 'keeper', '--server', control, '--token', 'alpha', '--inspect', '127.0.0.1:0']);
    const url = new URL((await agent.waitForLine(/^inspector: /)).slice('inspector: '.length));
    await agent.waitForLine(/^tunnel keeper: /);
    const ws = new WebSocket(`ws://127.0.0.1:${url.port}/api?token=${new URLSearchParams(url.hash.slice(1)).get('token')}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const api = buildApi(webSocketTransport(ws));
    const keeperAnswers = async (): Promise<boolean> => (await publicRequest({ port: publicPort, host: 'keeper.localhost', path: '/kept' })).status === 200;

    const added = await api.createTunnel({ name: 'held', protocol: 'http', target: String(backend.port) });
    await eventuallyAsync(async () => (await api.listTunnels()).some((view) => view.id === added.id && view.error?.code === 'BURROW_E_NAME_TAKEN'), 'the refusal in the inspector');
    await api.removeTunnel({ id: added.id });
    expect(await keeperAnswers()).toBe(true);

    await api.updateSettings({ token: 'wrong' });
    await eventually(() => agent.stderrLines.some((line) => line.endsWith('(BURROW_E_UNAUTHENTICATED)')), 'the refused token said');
    await api.updateSettings({ token: 'alpha' });
    await eventuallyAsync(keeperAnswers, 'the tunnel back with the mended token');
    expect(agent.child.exitCode).toBeNull();
    ws.close();
  });

  it('exits 1 saying no token was given, where a server wants one', async () => {
    const agent = cli(['http', String(backend.port), '--server', control, '--no-inspect'], { BURROW_TOKEN: '' });
    expect(await agent.exited).toBe(1);
    expect(agent.stderrLines.filter((l) => l.trim() !== '')).toEqual(['burrow: the server requires a token, and none was given (--token or $BURROW_TOKEN) (BURROW_E_UNAUTHENTICATED)']);
  });

  it('keeps serving when the reader of its output goes away (it died of EPIPE with a stack trace)', async () => {
    const agent = cli(['http', String(backend.port), '--name', 'unread', '--server', control, '--token', 'alpha', '--no-inspect']);
    // Nobody reads its stdout now: the tunnel's line, printed once it is live, meets a closed pipe.
    agent.child.stdout!.destroy();
    await eventuallyAsync(async () => (await publicRequest({ port: publicPort, host: 'unread.localhost', path: '/still' })).status === 200, 'the tunnel to serve');
    expect(agent.child.exitCode).toBeNull();
    expect((await publicRequest({ port: publicPort, host: 'unread.localhost', path: '/still' })).body.toString()).toBe('backend saw GET /still');
  });

  it('runs several tunnels from a config file with `burrow start`', async () => {
    const dir = scratchDirectory('burrow-cli-');
    const config = join(dir, 'burrow.yaml');
    writeFileSync(
      config,
      `server: ${control}\ntoken: alpha\ntunnels:\n  - { name: one, protocol: http, target: ${backend.port} }\n  - { name: two, target: "127.0.0.1:${backend.port}" }\n`,
    );
    const agent = cli(['start', '--config', config, '--no-inspect']);
    await agent.waitForLine(/^tunnel one: /);
    await agent.waitForLine(/^tunnel two: /);
    for (const name of ['one', 'two']) {
      expect((await publicRequest({ port: publicPort, host: `${name}.localhost`, path: `/${name}` })).body.toString()).toBe(`backend saw GET /${name}`);
    }
  });

  it('keeps retrying (does not exit) while the server is unreachable, and says when it is connected', async () => {
    const nobody = await holdPort();
    const agent = cli(['http', String(backend.port), '--server', `127.0.0.1:${nobody.port}`, '--no-inspect']);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (agent.stderrLines.filter((l) => /retrying in/.test(l)).length >= 2) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });
    expect(agent.child.exitCode).toBeNull();
    await nobody.release();
    cli(['server', '--control', `127.0.0.1:${nobody.port}`, '--public', '127.0.0.1:0']);
    await agent.waitForLine(/^tunnel /, 20_000);
    await eventually(() => agent.stderrLines.includes(`burrow: connected to the server at 127.0.0.1:${nobody.port}`), 'the agent to say it is connected');
  });
});

describe('a server just started', () => {
  it('answers a host with no tunnel 404 at once, as the contract has it; --restart-grace makes it 502 while agents come back', async () => {
    const fresh = await spawnCliServer([], cli);
    const answer = await publicRequest({ port: fresh.publicPort, host: 'nobody.localhost' });
    expect([answer.status, answer.headers['x-burrow-error']]).toEqual([404, 'BURROW_E_NO_TUNNEL']);
    const restarted = await spawnCliServer(['--restart-grace', '60000'], cli);
    const offline = await publicRequest({ port: restarted.publicPort, host: 'nobody.localhost' });
    expect([offline.status, offline.headers['x-burrow-error'], offline.headers['retry-after']]).toEqual([502, 'BURROW_E_TUNNEL_OFFLINE', '1']);
  });
});

describe('TLS from the command line', () => {
  it('--dev-tls serves TLS; an agent with --ca connects, one with only --tls exits 1 saying why', async () => {
    // Quiet logs: the certificate's path is on stdout too.
    const { process: server, control, publicPort } = await spawnCliServer(['--dev-tls', '--log-level', 'silent'], cli);
    const caLine = await server.waitForLine(/^burrow server: dev TLS certificate at /);
    const caPath = /--ca (\S+)\)$/.exec(caLine)![1];
    const trusting = cli(['http', '3000', '--name', 'sec', '--server', control, '--ca', caPath, '--no-inspect']);
    expect(await trusting.waitForLine(/^tunnel sec: /)).toBe(`tunnel sec: https://sec.localhost:${publicPort} -> http://127.0.0.1:3000`);
    const unverified = cli(['http', '3000', '--server', control, '--tls', '--no-inspect']);
    expect(await unverified.exited).toBe(1);
    expect(unverified.stderrLines.join('\n')).toMatch(/TLS verification .* failed.*--ca FILE/);
  });

  /** curl's status for https://HOST:PORT/, verifying with `caPath` (or why it failed). */
  const verifiedStatus = (host: string, port: number, caPath: string): Promise<string> =>
    new Promise<string>((resolve) =>
      execFile('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', caPath, '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}/`], (error, stdout, stderr) =>
        resolve(error ? `curl failed: ${stderr}` : stdout),
      ),
    );

  // Clients refuse a wildcard over one label (*.localhost): with the default domain the server signs a certificate for each name asked for.
  it('--dev-tls on the default domain serves each NAME.localhost with a certificate curl verifies, to a tunnel as to no tunnel', async () => {
    const { process: server, control, publicPort } = await spawnCliServer(['--dev-tls', '--log-level', 'silent'], cli);
    const caPath = /--ca (\S+)\)$/.exec(await server.waitForLine(/^burrow server: dev TLS certificate at /))![1]!;
    const backend = await startBackend((_req, res) => res.end('verified'));
    try {
      const agent = cli(['http', String(backend.port), '--name', 'app', '--server', control, '--ca', caPath, '--no-inspect']);
      await agent.waitForLine(/^tunnel app: /);
      expect(await verifiedStatus('app.localhost', publicPort, caPath)).toBe('200');
      // Verified, then answered by the edge: no tunnel of that name.
      expect(await verifiedStatus('other.localhost', publicPort, caPath)).toBe('404');
      expect(await verifiedStatus('localhost', publicPort, caPath)).toBe('404');
    } finally {
      await backend.close();
    }
  });

  // Found by the browser audit: every --dev-tls edge of a domain wrote its authority to one path, and a second edge
  // replaced the first one's, whose clients then refused it.
  it('--dev-tls edges running at once each keep their own authority, removed when each stops', async () => {
    const first = await spawnCliServer(['--dev-tls', '--log-level', 'silent'], cli);
    const second = await spawnCliServer(['--dev-tls', '--log-level', 'silent'], cli);
    const [firstCa, secondCa] = await Promise.all(
      [first, second].map(async ({ process }) => /--ca (\S+)\)$/.exec(await process.waitForLine(/^burrow server: dev TLS certificate at /))![1]!),
    );
    expect(firstCa).not.toBe(secondCa);
    expect(await verifiedStatus('localhost', first.publicPort, firstCa!)).toBe('404');
    expect(await verifiedStatus('localhost', second.publicPort, secondCa!)).toBe('404');
    expect(await first.process.kill()).toBe(0);
    expect([existsSync(firstCa!), existsSync(secondCa!)]).toEqual([false, true]);
  });

  it('--dev-tls with a domain of two labels serves names curl verifies with its certificate', async () => {
    const { process: server, publicPort } = await spawnCliServer(['--dev-tls', '--domain', 'tunnel.localhost', '--log-level', 'silent'], cli);
    const caPath = /--ca (\S+)\)$/.exec(await server.waitForLine(/^burrow server: dev TLS certificate at /))![1]!;
    expect(await verifiedStatus('app.tunnel.localhost', publicPort, caPath)).toBe('404');
  });
});

describe('burrow demo', () => {
  it('starts a server, a demo backend and an agent, and prints a URL that works', async () => {
    const demo = cli(['demo', '--public', '127.0.0.1:0', '--inspect', '127.0.0.1:0']);
    const line = await demo.waitForLine(/^tunnel demo: /);
    const port = Number(/:(\d+) ->/.exec(line)![1]);
    const res = await publicRequest({ port, host: 'demo.localhost', path: '/hello' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toMatchObject({ method: 'GET', path: '/hello' });
  });

  it('refuses a public address off this machine (it listened on loopback whatever the host), and says once why it cannot start', async () => {
    const elsewhere = cli(['demo', '--public', '10.1.2.3:8080', '--no-inspect']);
    expect(await elsewhere.exited).toBe(2);
    expect(elsewhere.stderrLines[0]).toBe('burrow: --public: burrow demo listens on this machine only (127.0.0.1:PORT), not on 10.1.2.3');
    const taken = await startBackend((_req, res) => res.end());
    try {
      const busy = cli(['demo', '--public', `127.0.0.1:${taken.port}`, '--no-inspect']);
      expect(await busy.exited).toBe(1);
      expect(busy.stderrLines.filter((line) => line.includes('EADDRINUSE'))).toEqual([expect.stringMatching(/^burrow: could not start the local test server: listen EADDRINUSE/)]);
    } finally {
      await taken.close();
    }
  });
});
