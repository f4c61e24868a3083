// Importing the HTTP tunnels of ngrok and frpc configurations (example files
// in each format as their documentation describes them), with a report of
// what Burrow cannot carry over.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppService, maxImportedTunnels } from '../../src/main/service/app-service.js';
import { configKind, planImport } from '../../src/main/service/config-import.js';
import { repoRoot } from '../helpers/common.js';

const example = (file: string): string => readFileSync(join(repoRoot, 'test/fixtures/import', file), 'utf8');
const created = (file: string) => planImport(file, example(file)).tunnels.map(({ from, name, protocol, target }) => ({ from, name, protocol, target }));
const notMapped = (file: string) => planImport(file, example(file)).notMapped;

describe('planImport', () => {
  it('ngrok format 2: the HTTP tunnels, named by subdomain or tunnel name; TCP and TLS tunnels and edge options reported', () => {
    expect(created('ngrok-v2.yml')).toEqual([
      { from: 'website', name: 'my-site', protocol: 'http', target: '127.0.0.1:8080' },
      { from: 'api', name: 'api', protocol: 'http', target: '127.0.0.1:3000' },
      { from: 'admin', name: 'admin', protocol: 'http', target: 'localhost:9000' },
    ]);
    expect(notMapped('ngrok-v2.yml')).toEqual([
      { what: 'api: hostname', why: 'custom hostnames are not supported: the tunnel is served as NAME.DOMAIN' },
      { what: 'api: auth', why: 'basic auth at the edge is not supported' },
      { what: 'admin: host_header', why: 'the Host header is passed on unchanged' },
      { what: 'ssh', why: 'a tcp tunnel: Burrow tunnels HTTP, WebSocket and gRPC' },
      { what: 'secure', why: 'a tls tunnel: Burrow tunnels HTTP, WebSocket and gRPC' },
    ]);
  });

  it('ngrok format 3: tunnels and HTTP endpoints (an HTTP/2 upstream as a gRPC tunnel); TCP ones reported', () => {
    expect(created('ngrok-v3.yml')).toEqual([
      { from: 'shop', name: 'shop', protocol: 'http', target: '127.0.0.1:4000' },
      { from: 'hooks', name: 'hooks', protocol: 'http', target: '127.0.0.1:8090' },
      { from: 'grpc-api', name: 'grpc', protocol: 'grpc', target: 'localhost:50051' },
    ]);
    expect(notMapped('ngrok-v3.yml').map((n) => n.what)).toEqual(['shop: domain', 'shop: basic_auth', 'db', 'hooks', 'grpc-api', 'raw']);
  });

  it('frpc TOML: HTTP proxies by subdomain or a name made valid; other proxy types and options reported', () => {
    expect(created('frpc.toml')).toEqual([
      { from: 'web', name: 'web', protocol: 'http', target: '127.0.0.1:8080' },
      { from: 'Blog_Site', name: 'blog-site', protocol: 'http', target: '127.0.0.1:2368' },
    ]);
    expect(notMapped('frpc.toml')).toEqual([
      { what: 'Blog_Site: customDomains', why: 'custom domains are not supported: the tunnel is served as NAME.DOMAIN' },
      { what: 'Blog_Site: httpUser', why: 'basic auth at the edge is not supported' },
      { what: 'ssh', why: 'a tcp proxy: Burrow tunnels HTTP, WebSocket and gRPC' },
      { what: 'secure-web', why: 'a https proxy: Burrow tunnels HTTP, WebSocket and gRPC' },
      { what: 'dns', why: 'a udp proxy: Burrow tunnels HTTP, WebSocket and gRPC' },
    ]);
  });

  it('frpc INI (before frp 0.52): the same, from sections', () => {
    expect(created('frpc.ini')).toEqual([
      { from: 'dashboard', name: 'dash', protocol: 'http', target: '127.0.0.1:3001' },
      { from: 'api', name: 'api', protocol: 'http', target: '127.0.0.1:5000' },
    ]);
    expect(notMapped('frpc.ini').map((n) => n.what)).toEqual(['api: custom_domains', 'api: host_header_rewrite', 'api: locations', 'vnc']);
  });

  it('tells the format by the file name, else by the contents, and refuses what it cannot read', () => {
    expect(configKind('x.txt', '[common]\nserver_addr = a\n')).toBe('frpc-ini');
    expect(configKind('x.txt', '[[proxies]]\nname = "a"\n')).toBe('frpc-toml');
    expect(configKind('ngrok.yaml', '')).toBe('ngrok');
    expect(() => planImport('frpc.toml', '[[proxies]\nname = ')).toThrow(/^not valid TOML/);
    expect(() => planImport('ngrok.yml', 'just text')).toThrow('the YAML file holds no settings');
  });
});

describe('importTunnels (the command)', () => {
  let service: AppService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('adds the tunnels switched off, and reports one whose name is taken', async () => {
    service = await AppService.open({ initial: { settings: { serverAddress: '127.0.0.1:1' }, tunnels: [{ id: 'x', name: 'web', protocol: 'http', target: '1234', enabled: true }] } });
    const report = await service.importTunnels({ fileName: 'frpc.toml', text: example('frpc.toml') });
    expect(report.created.map((t) => [t.name, t.target, t.enabled, t.status])).toEqual([['blog-site', '127.0.0.1:2368', false, 'disabled']]);
    expect(report.notMapped).toContainEqual({ what: 'web', why: 'a tunnel named "web" already exists' });
    expect((await service.listTunnels()).map((t) => t.name)).toEqual(['web', 'blog-site']);
    await expect(service.importTunnels({ fileName: 'frpc.toml', text: 'name = [' })).rejects.toMatchObject({ code: 'BURROW_E_INVALID_INPUT' });
  });

  it('adds at most maxImportedTunnels, saves once and tells the list once, saying what it left out', async () => {
    service = await AppService.open({ initial: { settings: { serverAddress: '127.0.0.1:1' } } });
    const lists: number[] = [];
    service.on('tunnels', (views) => lists.push(views.length));
    const count = maxImportedTunnels + 2;
    const tunnels = Array.from({ length: count }, (_, i) => `  t${i}:\n    proto: http\n    addr: ${3000 + i}\n`).join('');
    const report = await service.importTunnels({ fileName: 'ngrok.yml', text: `version: "2"\ntunnels:\n${tunnels}` });
    expect(report.created).toHaveLength(maxImportedTunnels);
    expect(report.notMapped).toEqual([
      { what: `t${count - 2}`, why: `one import adds at most ${maxImportedTunnels} tunnels` },
      { what: `t${count - 1}`, why: `one import adds at most ${maxImportedTunnels} tunnels` },
    ]);
    expect(lists).toEqual([maxImportedTunnels]);
    expect(await service.listTunnels()).toHaveLength(maxImportedTunnels);
  });
});
