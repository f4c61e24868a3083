// Operating an edge as its operator would: `burrow server` and `burrow http`
// as processes with their admin endpoints and logs. JSON and access logs
// are parsed line by line; no secret appears in any line either prints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, eventuallyAsync, publicRequest, spawnCli, spawnCliServer, startBackend, type Backend, type CliProcess } from '../helpers/common.js';
import { scrape } from '../helpers/prometheus.js';
import { scratchDirectory } from '../helpers/scratch.js';

const secrets = {
  agentToken: 'agent-token-6c1f0e',
  adminToken: 'admin-token-93ab27',
  agentAdminToken: 'agent-admin-token-51d0c4',
  wrongToken: 'wrong-token-e8f2a9',
  clientAuthorization: 'client-bearer-7d3e11',
  cookie: 'cookie-value-0b9c42',
  queryToken: 'query-token-4fa8d6',
};

const started: CliProcess[] = [];
function cli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const p = spawnCli(args, env);
  started.push(p);
  return p;
}

const adminUrl = async (p: CliProcess, pattern: RegExp): Promise<string> => /(http:\/\/\S+)/.exec(await p.waitForLine(pattern))![1]!;

interface AccessRecord {
  level: string;
  time: string;
  type: string;
  request_id: string;
  trace_id: string;
  tunnel: string;
  protocol: string;
  method: string;
  path: string;
  status: number;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  error_code?: string;
}

describe('an edge and an agent with admin endpoints, JSON logs and an access log', () => {
  let backend: Backend;
  let server: CliProcess;
  let agent: CliProcess;
  let control: string;
  let publicPort: number;
  let serverAdmin: string;
  let agentAdmin: string;
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

  beforeAll(async () => {
    backend = await startBackend((req, res) => {
      let size = 0;
      req.on('data', (chunk: Buffer) => (size += chunk.length));
      req.on('end', () => res.writeHead(200, { 'set-cookie': `session=${secrets.cookie}` }).end(`got ${size}`));
    });
    ({ process: server, control, publicPort } = await spawnCliServer(
      ['--token', secrets.agentToken, '--admin', '127.0.0.1:0', '--admin-token', secrets.adminToken, '--log-format', 'json', '--access-log'],
      cli,
    ));
    serverAdmin = await adminUrl(server, /^burrow server: admin on /);
    agent = cli(['http', String(backend.port), '--name', 'app', '--server', control, '--token', secrets.agentToken, '--no-inspect', '--admin', '127.0.0.1:0', '--admin-token', secrets.agentAdminToken]);
    await agent.waitForLine(/^tunnel app: /);
    agentAdmin = await adminUrl(agent, /^admin: /);

    const headers = { authorization: `Bearer ${secrets.clientAuthorization}`, cookie: `session=${secrets.cookie}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` };
    for (const body of ['', 'x'.repeat(1000)]) {
      const answer = await publicRequest({ port: publicPort, host: 'app.localhost', method: 'POST', path: `/hook?access_token=${secrets.queryToken}&page=2`, headers, body });
      expect(answer.status).toBe(200);
    }
    // A host outside the domain: 404 even in the seconds after the edge starts, when an unknown name of it would be offline.
    expect((await publicRequest({ port: publicPort, host: 'nobody.example.com', headers })).status).toBe(404);
    const impostor = cli(['http', '1', '--server', control, '--token', secrets.wrongToken, '--no-inspect']);
    expect(await impostor.exited).toBe(1);
    const squatter = cli(['http', '1', '--name', 'app', '--server', control, '--token', secrets.agentToken, '--no-inspect']);
    expect(await squatter.exited).toBe(1);
    await eventually(() => server.stderrLines.filter((line) => line.includes('"type":"access"')).length === 3, 'three access lines');
  });

  afterAll(async () => {
    await Promise.all(started.splice(0).map((p) => p.kill()));
    await backend?.close();
  });

  it('writes every log line as one JSON object, access lines with the request, trace, tunnel, status, bytes and duration', () => {
    const lines = server.stderrLines.filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.every((line) => typeof line.level === 'string' && typeof line.time === 'string' && typeof line.msg === 'string')).toBe(true);
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining([expect.stringMatching(/^tunnel app registered at http:\/\/app\.localhost:\d+$/), 'agent refused: the server rejected its token']));
    const access = lines.filter((line) => line.type === 'access') as unknown as AccessRecord[];
    expect(access.map(({ tunnel, method, path, status, bytes_in, bytes_out, trace_id }) => ({ tunnel, method, path, status, bytes_in, bytes_out, trace_id }))).toEqual([
      { tunnel: 'app', method: 'POST', path: '/hook?access_token=[redacted]&page=2', status: 200, bytes_in: 0, bytes_out: 'got 0'.length, trace_id: traceId },
      { tunnel: 'app', method: 'POST', path: '/hook?access_token=[redacted]&page=2', status: 200, bytes_in: 1000, bytes_out: 'got 1000'.length, trace_id: traceId },
      { tunnel: '', method: 'GET', path: '/', status: 404, bytes_in: 0, bytes_out: 0, trace_id: traceId },
    ]);
    expect(access[2]!.error_code).toBe('BURROW_E_NO_TUNNEL');
    for (const record of access) {
      expect(record.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect([record.protocol, typeof record.duration_ms, Number.isNaN(Date.parse(record.time))]).toEqual(['http', 'number', false]);
    }
  });

  it('never logs a token, an Authorization value or a cookie', () => {
    const output = [server, agent, ...started].flatMap((p) => [...p.stdoutLines, ...p.stderrLines]).join('\n');
    for (const [name, secret] of Object.entries(secrets)) expect(output.includes(secret), `${name} in the output`).toBe(false);
  });

  it('serves the edge /metrics, moving with the traffic, and /api/tunnels, behind the admin token', async () => {
    expect((await fetch(`${serverAdmin}/metrics`)).status).toBe(401);
    const metrics = await scrape(`${serverAdmin}/metrics`, secrets.adminToken);
    expect(metrics.value('burrow_requests_total', { tunnel: 'app', protocol: 'http', status_class: '2xx' })).toBe(2);
    expect(metrics.value('burrow_request_bytes_total', { tunnel: 'app', direction: 'in' })).toBe(1000);
    expect([metrics.value('burrow_rejections_total', { reason: 'unauthenticated' }), metrics.value('burrow_rejections_total', { reason: 'name_taken' })]).toEqual([1, 1]);
    expect([metrics.value('burrow_agents_connected'), metrics.value('burrow_tunnels_registered')]).toEqual([1, 1]);
    const tunnels = (await (await fetch(`${serverAdmin}/api/tunnels`, { headers: { authorization: `Bearer ${secrets.adminToken}` } })).json()) as { tunnels: unknown[] };
    expect(tunnels.tunnels).toEqual([expect.objectContaining({ tunnel: 'app', edge: control, counters: { requests: 2, errors: 0, bytesIn: 1000, bytesOut: 13, inFlight: 0 } })]);
    expect([(await fetch(`${serverAdmin}/healthz`)).status, (await fetch(`${serverAdmin}/readyz`)).status]).toEqual([200, 200]);
  });

  it('serves the agent its own /metrics, /readyz and /api/tunnels', async () => {
    await eventuallyAsync(
      async () => (await scrape(`${agentAdmin}/metrics`, secrets.agentAdminToken)).value('burrow_requests_total', { tunnel: 'app', protocol: 'http', status_class: '2xx' }) === 2,
      'the agent counting both requests',
    );
    const metrics = await scrape(`${agentAdmin}/metrics`, secrets.agentAdminToken);
    expect([metrics.value('burrow_agent_connected'), metrics.value('burrow_tunnels_online'), metrics.value('burrow_request_bytes_total', { tunnel: 'app', direction: 'in' })]).toEqual([1, 1, 1000]);
    expect(await (await fetch(`${agentAdmin}/readyz`)).json()).toEqual({ ready: true });
    const tunnels = (await (await fetch(`${agentAdmin}/api/tunnels`, { headers: { authorization: `Bearer ${secrets.agentAdminToken}` } })).json()) as { tunnels: unknown[] };
    expect(tunnels.tunnels).toEqual([
      expect.objectContaining({ tunnel: 'app', status: 'online', publicUrl: `http://app.localhost:${publicPort}`, edge: control, counters: expect.objectContaining({ requests: 2, bytesIn: 1000 }) }),
    ]);
  });
});

describe('text logs', () => {
  const processes: CliProcess[] = [];
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
  });

  /** `burrow server FLAGS` and a tunnel `app` to `backend` through it. */
  async function edgeWithTunnel(flags: string[], backend: Backend): Promise<{ server: CliProcess; agent: CliProcess; publicPort: number }> {
    const { process: server, control, publicPort } = await spawnCliServer(flags, (args) => {
      const p = spawnCli(args);
      processes.push(p);
      return p;
    });
    const agent = spawnCli(['http', String(backend.port), '--name', 'app', '--server', control, '--no-inspect']);
    processes.push(agent);
    await agent.waitForLine(/^tunnel app: /);
    return { server, agent, publicPort };
  }

  it('are readable lines on stderr; --access-log FILE appends the access lines there', async () => {
    const file = join(scratchDirectory('burrow-access-'), 'access.log');
    const backend = await startBackend((_req, res) => res.end('ok'));
    try {
      const { server, publicPort } = await edgeWithTunnel(['--access-log', file], backend);
      expect((await publicRequest({ port: publicPort, host: 'app.localhost', path: '/page' })).status).toBe(200);
      await eventually(() => server.stderrLines.some((line) => line.includes('registered at')), 'the registration line');
      expect(server.stderrLines.filter((line) => line.trim() !== '').every((line) => /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN): \S/.test(line))).toBe(true);
      await eventually(() => readFileSync(file, 'utf8').includes('GET app /page'), 'the access line in the file');
      expect(readFileSync(file, 'utf8')).toMatch(/^\[[^\]]+\] INFO: GET app \/page http 200 in=0 out=2 \d+ms request_id=[0-9a-f-]{36} trace_id=[0-9a-f]{32}\n$/);
      expect(server.stderrLines.join('\n')).not.toContain('GET app /page');
    } finally {
      await backend.close();
    }
  });

  it('--access-log on a file whose writes fail (/dev/full, as a full disk): the edge serves on, says so once, and stops when told', async () => {
    const backend = await startBackend((_req, res) => res.end('ok'));
    try {
      for (const format of ['json', 'text']) {
        const { server, agent, publicPort } = await edgeWithTunnel(['--access-log', '/dev/full', '--log-format', format], backend);
        // Each request's access line fails to be written; the requests after it were once never answered.
        for (let i = 0; i < 5; i++) expect((await publicRequest({ port: publicPort, host: 'app.localhost', path: `/${i}` })).status).toBe(200);
        const told = (): string[] => server.stderrLines.filter((line) => line.includes('cannot write the log file /dev/full (ENOSPC)'));
        await eventually(() => told().length > 0, 'the line saying the log file cannot be written');
        expect(told()).toHaveLength(1);
        // Stopping it once hung in pino's flush at exit, which retries the failing write for ever.
        expect(await server.kill()).toBe(0);
        await agent.kill();
      }
    } finally {
      await backend.close();
    }
  });
});
