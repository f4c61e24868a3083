// Reads the HTTP tunnels out of an existing ngrok (ngrok.yml, formats 2 and
// 3) or frpc (frpc.toml, frpc.ini) configuration, and says what of it
// Burrow cannot take: tunnels of other kinds (TCP, UDP, TLS), and options it
// has no counterpart for (custom domains, basic auth, header rewrites).
import { parse as parseIni } from 'ini';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import type { CreateTunnelInput } from '../../shared/contract.js';
import { formatLocalTarget, parseLocalTarget } from '../tunnel/agent/local-target.js';
import { isValidTunnelName } from '../tunnel/tunnel-names.js';

export type ConfigKind = 'ngrok' | 'frpc-toml' | 'frpc-ini';

export interface NotMapped {
  /** The tunnel (or setting) it concerns. */
  what: string;
  why: string;
}

export interface ImportPlan {
  kind: ConfigKind;
  tunnels: (CreateTunnelInput & { from: string })[];
  notMapped: NotMapped[];
}

/** What the file is, by its name, else by its contents. */
export function configKind(fileName: string, text: string): ConfigKind {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.toml')) return 'frpc-toml';
  if (lower.endsWith('.ini')) return 'frpc-ini';
  if (lower.endsWith('.yml') || lower.endsWith('.yaml')) return 'ngrok';
  if (/^\s*\[\[proxies\]\]/m.test(text)) return 'frpc-toml';
  if (/^\s*\[common\]/m.test(text)) return 'frpc-ini';
  return 'ngrok';
}

/** The tunnels to create and what could not be mapped; throws an Error saying why a file cannot be read at all. */
export function planImport(fileName: string, text: string): ImportPlan {
  const kind = configKind(fileName, text);
  const plan: ImportPlan = { kind, tunnels: [], notMapped: [] };
  if (kind === 'ngrok') readNgrok(parseAs('YAML', () => parseYaml(text)), plan);
  else readFrpc(kind === 'frpc-toml' ? parseAs('TOML', () => parseToml(text)) : parseAs('INI', () => parseIni(text)), kind, plan);
  return plan;
}

function parseAs(format: string, parse: () => unknown): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse();
  } catch (error) {
    throw new Error(`not valid ${format}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`the ${format} file holds no settings`);
  return doc as Record<string, unknown>;
}

const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

function readNgrok(doc: Record<string, unknown>, plan: ImportPlan): void {
  for (const [name, raw] of Object.entries(record(doc.tunnels))) {
    const tunnel = record(raw);
    const proto = String(tunnel.proto ?? 'http');
    if (proto !== 'http') {
      plan.notMapped.push({ what: name, why: `a ${proto} tunnel: Burrow tunnels HTTP, WebSocket and gRPC` });
      continue;
    }
    const subdomain = typeof tunnel.subdomain === 'string' ? tunnel.subdomain : undefined;
    add(plan, name, subdomain ?? name, tunnel.addr, [
      ['hostname', 'custom hostnames are not supported: the tunnel is served as NAME.DOMAIN'],
      ['domain', 'custom domains are not supported: the tunnel is served as NAME.DOMAIN'],
      ['auth', 'basic auth at the edge is not supported'],
      ['basic_auth', 'basic auth at the edge is not supported'],
      ['host_header', 'the Host header is passed on unchanged'],
      ['oauth', 'OAuth at the edge is not supported'],
    ], tunnel);
  }
  const endpoints = Array.isArray(doc.endpoints) ? doc.endpoints : [];
  endpoints.forEach((raw, i) => {
    const endpoint = record(raw);
    const name = typeof endpoint.name === 'string' ? endpoint.name : `endpoint ${i + 1}`;
    const url = String(endpoint.url ?? '');
    if (!/^https?:\/\//.test(url)) {
      plan.notMapped.push({ what: name, why: `a ${url.split(':')[0] || 'non-HTTP'} endpoint: Burrow tunnels HTTP, WebSocket and gRPC` });
      return;
    }
    const upstream = record(endpoint.upstream);
    const host = /^https?:\/\/([^./:]+)/.exec(url)?.[1];
    const protocol = upstream.protocol === 'http2' ? 'grpc' : 'http';
    add(plan, name, host ?? name, stripScheme(upstream.url), [['traffic_policy', 'traffic policies are not supported']], endpoint, protocol);
    plan.notMapped.push({ what: name, why: `its public URL ${url} becomes NAME.DOMAIN on your Burrow server` });
  });
}

function readFrpc(doc: Record<string, unknown>, kind: ConfigKind, plan: ImportPlan): void {
  const toml = kind === 'frpc-toml';
  const proxies: [string, Record<string, unknown>][] = toml
    ? (Array.isArray(doc.proxies) ? doc.proxies : []).map((raw, i) => [String(record(raw).name ?? `proxy ${i + 1}`), record(raw)])
    : Object.entries(doc)
        .filter(([section]) => section !== 'common')
        .map(([section, raw]) => [section, record(raw)]);
  const key = (camel: string, snake: string): string => (toml ? camel : snake);
  for (const [name, proxy] of proxies) {
    const type = String(proxy.type ?? 'tcp');
    if (type !== 'http') {
      plan.notMapped.push({ what: name, why: `a ${type} proxy: Burrow tunnels HTTP, WebSocket and gRPC` });
      continue;
    }
    const host = String(proxy[key('localIP', 'local_ip')] ?? '127.0.0.1');
    const port = proxy[key('localPort', 'local_port')];
    const subdomain = proxy.subdomain;
    add(plan, name, typeof subdomain === 'string' ? subdomain : name, port === undefined ? undefined : `${host}:${String(port)}`, [
      [key('customDomains', 'custom_domains'), 'custom domains are not supported: the tunnel is served as NAME.DOMAIN'],
      [key('httpUser', 'http_user'), 'basic auth at the edge is not supported'],
      [key('hostHeaderRewrite', 'host_header_rewrite'), 'the Host header is passed on unchanged'],
      ['locations', 'routing by path is not supported: the tunnel takes every path'],
    ], proxy);
  }
}

/** One HTTP tunnel to create, and a note for each option that has no counterpart. */
function add(plan: ImportPlan, from: string, wantedName: string, addr: unknown, unmappedOptions: [string, string][], options: Record<string, unknown>, protocol: 'http' | 'grpc' = 'http'): void {
  let target: string;
  try {
    target = formatLocalTarget(parseLocalTarget(String(stripScheme(addr) ?? '')));
  } catch {
    plan.notMapped.push({ what: from, why: `its local address ${JSON.stringify(addr ?? null)} is not PORT or HOST:PORT` });
    return;
  }
  const name = tunnelName(wantedName);
  if (name === '') plan.notMapped.push({ what: from, why: `"${wantedName}" is no tunnel name: the server will pick one` });
  plan.tunnels.push({ from, name, protocol, target, enabled: false });
  for (const [option, why] of unmappedOptions) if (options[option] !== undefined) plan.notMapped.push({ what: `${from}: ${option}`, why });
}

/** A tunnel name from a proxy or tunnel name: lower case, dashes for the rest; '' when nothing usable remains. */
function tunnelName(wanted: string): string {
  const name = wanted.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return isValidTunnelName(name) ? name : '';
}

/** "http://localhost:80" → "localhost:80": ngrok addresses may carry a scheme. */
function stripScheme(addr: unknown): unknown {
  return typeof addr === 'string' ? addr.replace(/^https?:\/\//, '').replace(/\/.*$/, '') : addr;
}
