// Throughput over the last five minutes, total or for one tunnel: requests
// per second, bytes each way per second, streams open.
import { useMemo, useState } from 'react';
import { Area, AreaChart, CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { ThroughputPoint } from '../../../shared/contract';
import { useApp } from '../app-context';
import { formatBytes } from '../lib/format';
import { Chart, Stat, clock } from './chart-parts';

export function ThroughputView() {
  const throughput = useApp((s) => s.throughput);
  const [scope, setScope] = useState('');
  const names = Object.keys(throughput.perTunnel).sort();
  const points = scope === '' ? throughput.total : (throughput.perTunnel[scope] ?? []);
  const latest = points.at(-1);
  const totals = useMemo(() => sum(points), [points]);
  return (
    <section className="view throughput" aria-labelledby="throughput-title">
      <div className="view-head">
        <h2 id="throughput-title">Throughput</h2>
        <select value={scope} onChange={(e) => setScope(e.target.value)} aria-label="Scope">
          <option value="">All tunnels</option>
          {names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <div className="stat-cards" data-testid="throughput-summary">
        <Stat label="Requests, 5 min" value={String(totals.requests)} testId="total-requests" />
        <Stat label="In, 5 min" value={formatBytes(totals.bytesIn)} />
        <Stat label="Out, 5 min" value={formatBytes(totals.bytesOut)} />
        <Stat label="Open streams" value={String(latest?.openStreams ?? 0)} />
      </div>
      {points.length === 0 ? (
        <p className="empty">The graphs fill in once a second while the agent runs.</p>
      ) : (
        <div className="charts">
          <Chart title="Requests per second">
            <LineChart data={points as ThroughputPoint[]}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis dataKey="at" tickFormatter={clock} minTickGap={40} stroke="var(--muted)" />
              <YAxis allowDecimals={false} stroke="var(--muted)" width={50} />
              <Tooltip labelFormatter={(at) => clock(Number(at))} />
              <Line type="linear" dataKey="requests" name="requests/s" stroke="var(--accent)" dot={false} isAnimationActive={false} />
            </LineChart>
          </Chart>
          <Chart title="Bytes per second">
            <AreaChart data={points as ThroughputPoint[]}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis dataKey="at" tickFormatter={clock} minTickGap={40} stroke="var(--muted)" />
              <YAxis tickFormatter={(v: number) => formatBytes(v)} stroke="var(--muted)" width={70} />
              <Tooltip labelFormatter={(at) => clock(Number(at))} formatter={(v) => formatBytes(Number(v))} />
              <Area type="linear" dataKey="bytesIn" name="in (to service)" stroke="var(--accent)" fill="var(--accent)" fillOpacity={0.2} isAnimationActive={false} />
              <Area type="linear" dataKey="bytesOut" name="out (to client)" stroke="var(--accent-2)" fill="var(--accent-2)" fillOpacity={0.2} isAnimationActive={false} />
            </AreaChart>
          </Chart>
          <Chart title="Open streams">
            <LineChart data={points as ThroughputPoint[]}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis dataKey="at" tickFormatter={clock} minTickGap={40} stroke="var(--muted)" />
              <YAxis allowDecimals={false} stroke="var(--muted)" width={50} />
              <Tooltip labelFormatter={(at) => clock(Number(at))} />
              <Line type="stepAfter" dataKey="openStreams" name="open" stroke="var(--accent-2)" dot={false} isAnimationActive={false} />
            </LineChart>
          </Chart>
        </div>
      )}
    </section>
  );
}

function sum(points: readonly ThroughputPoint[]): { requests: number; bytesIn: number; bytesOut: number } {
  return points.reduce((acc, p) => ({ requests: acc.requests + p.requests, bytesIn: acc.bytesIn + p.bytesIn, bytesOut: acc.bytesOut + p.bytesOut }), {
    requests: 0,
    bytesIn: 0,
    bytesOut: 0,
  });
}
