// frp beside Burrow (`npm run bench -- --frp DIR`): frps and frpc from DIR,
// configured like the bench's own tunnel (one HTTP proxy, the same backend,
// the same Host header), so each row can show direct / Burrow / frp.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { removeAtExit, startProcess } from './processes.js';

export interface FrpRun {
  serverPid: number;
  agentPid: number;
  /** frps's HTTP vhost port: public traffic, like Burrow's public port. */
  publicPort: number;
}

/** Why DIR cannot be used, or undefined when it has both binaries. */
export function frpProblem(dir: string): string | undefined {
  const missing = ['frps', 'frpc'].filter((name) => !existsSync(join(dir, name)));
  return missing.length === 0 ? undefined : `no ${missing.join(' or ')} in ${resolve(dir)}`;
}

// frp takes ports, not port 0; a port released here is taken by frps at once.
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
    probe.on('error', fail);
  });
}

function answers(port: number, host: string): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path: '/small', headers: { host } }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('error', () => done(false));
    req.setTimeout(1_000, () => req.destroy());
    req.end();
  });
}

export async function startFrp(dir: string, backendPort: number, host: string): Promise<FrpRun> {
  const configDir = mkdtempSync(join(tmpdir(), 'burrow-bench-frp-'));
  removeAtExit(configDir);
  const [bindPort, publicPort] = [await freePort(), await freePort()];
  const serverConfig = join(configDir, 'frps.ini');
  const agentConfig = join(configDir, 'frpc.ini');
  writeFileSync(serverConfig, `[common]\nbind_addr = 127.0.0.1\nbind_port = ${bindPort}\nproxy_bind_addr = 127.0.0.1\nvhost_http_port = ${publicPort}\n`);
  writeFileSync(
    agentConfig,
    `[common]\nserver_addr = 127.0.0.1\nserver_port = ${bindPort}\n\n[bench]\ntype = http\nlocal_ip = 127.0.0.1\nlocal_port = ${backendPort}\ncustom_domains = ${host}\n`,
  );
  const server = startProcess('frps', resolve(dir, 'frps'), ['-c', serverConfig]);
  await server.line(/frps started successfully/);
  const agent = startProcess('frpc', resolve(dir, 'frpc'), ['-c', agentConfig]);
  // frps answers 404 until frpc's proxy is registered.
  for (let tries = 0; !(await answers(publicPort, host)); tries++) {
    if (tries === 100) throw new Error(`frp did not serve ${host} within 10 s`);
    await new Promise((done) => setTimeout(done, 100));
  }
  return { serverPid: server.pid, agentPid: agent.pid, publicPort };
}
