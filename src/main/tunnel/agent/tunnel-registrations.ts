// The tunnels an agent carries and how far each is registered on the
// current connection: asked for, live with a public URL, or refused.
import { randomUUID } from 'node:crypto';
import { ProtocolType, type RegisterTunnel, type TunnelRegistered } from '../../gen/burrow/v1/tunnel.js';
import { formatLocalTarget, parseLocalTarget, type LocalTarget } from './local-target.js';

export type TunnelProtocol = 'http' | 'grpc';

export interface TunnelSpec {
  /** Stable identity for events; generated when absent. */
  id?: string;
  /** Requested name; the server picks one when absent. */
  name?: string;
  protocol: TunnelProtocol;
  /** "PORT" or "HOST:PORT" of the local service. */
  target: string;
}

export interface LiveTunnel {
  id: string;
  name: string;
  publicUrl: string;
  protocol: TunnelProtocol;
  target: string;
}

interface TunnelRecord {
  /** Correlates RegisterTunnel with its answer. */
  key: string;
  spec: TunnelSpec;
  target: LocalTarget;
  /** Name the server assigned; reused on reconnect so the public URL stays. */
  assignedName?: string;
  live?: LiveTunnel;
  /** A RegisterTunnel is awaiting its answer on the current connection. */
  registering?: boolean;
}

export class TunnelRegistrations {
  private readonly records: TunnelRecord[];

  constructor(specs: TunnelSpec[]) {
    this.records = specs.map((spec) => recordFor(spec));
  }

  get live(): LiveTunnel[] {
    return this.records.flatMap((r) => (r.live === undefined ? [] : [r.live]));
  }

  get allLive(): boolean {
    return this.records.every((r) => r.live !== undefined);
  }

  has(id: string): boolean {
    return this.records.some((r) => r.key === id);
  }

  /** Adds a tunnel; returns its id. */
  add(spec: TunnelSpec): string {
    const record = recordFor(spec);
    if (this.records.some((r) => r.key === record.key)) throw new Error(`a tunnel with id ${record.key} exists`);
    this.records.push(record);
    return record.key;
  }

  /** Removes a tunnel; returns the name the server knows it by, if any, or false when there is no such tunnel. */
  remove(id: string): string | undefined | false {
    const index = this.records.findIndex((r) => r.key === id);
    if (index < 0) return false;
    const [record] = this.records.splice(index, 1);
    return record.live?.name ?? record.assignedName;
  }

  /** The local service of a live tunnel. */
  targetOf(name: string): LocalTarget | undefined {
    return this.records.find((r) => r.live?.name === name)?.target;
  }

  /** RegisterTunnel messages for every tunnel neither live nor asked for yet, each with its correlation key. */
  takeUnregistered(): { key: string; request: RegisterTunnel }[] {
    const pending = this.records.filter((r) => r.live === undefined && !r.registering);
    return pending.map((record) => {
      record.registering = true;
      const request: RegisterTunnel = {
        name: record.spec.name ?? record.assignedName ?? '',
        protocol: record.spec.protocol === 'grpc' ? ProtocolType.PROTOCOL_TYPE_GRPC : ProtocolType.PROTOCOL_TYPE_HTTP,
        target: formatLocalTarget(record.target),
      };
      return { key: record.key, request };
    });
  }

  /** The server's answer to registration `key`: the tunnel is live. */
  registered(key: string, answer: TunnelRegistered): LiveTunnel | undefined {
    const record = this.records.find((r) => r.key === key);
    if (record === undefined) return undefined;
    record.registering = false;
    record.assignedName = answer.name;
    record.live = { id: record.key, name: answer.name, publicUrl: answer.publicUrl, protocol: record.spec.protocol, target: formatLocalTarget(record.target) };
    return record.live;
  }

  /** The server refused registration `key` (or reported about something else): who it concerns. */
  refused(key: string, subject: string): { id: string; name: string } {
    const record = this.records.find((r) => r.key === key);
    if (record !== undefined) record.registering = false;
    return { id: record?.key ?? '', name: record?.spec.name ?? record?.assignedName ?? subject };
  }

  /** The connection is gone: nothing is live or asked for; returns what was live. */
  reset(): LiveTunnel[] {
    const wasLive = this.live;
    for (const record of this.records) {
      record.live = undefined;
      record.registering = false;
    }
    return wasLive;
  }
}

function recordFor(spec: TunnelSpec): TunnelRecord {
  return { key: spec.id ?? randomUUID(), spec, target: parseLocalTarget(spec.target) };
}
