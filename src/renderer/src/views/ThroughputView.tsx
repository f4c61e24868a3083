// Throughput over the last five minutes, total or for one tunnel: requests
// and errors per second, latency percentiles, bytes each way per second,
// streams open; every chart on the same time axis.
import { useMemo, useState } from 'react';
import type { ThroughputPoint } from '../../../shared/contract';
import { useApp } from '../app-context';
import { formatBytes } from '../lib/format';
import { Stat, TimeSeriesChart, milliseconds, timeScale } from './chart-parts';

const perSecond = (value: number): string => `${Number.isInteger(value) ? value : value.toFixed(1)}/s`;
const bytesPerSecond = (value: number): string => `${formatBytes(value)}/s`;

export function ThroughputView() {
  const throughput = useApp((s) => s.throughput);
  const [scope, setScope] = useState('');
  const names = Object.keys(throughput.perTunnel).sort();
  const points = scope === '' ? throughput.total : (throughput.perTunnel[scope] ?? []);
  const latest = points.at(-1);
  const totals = useMemo(() => sum(points), [points]);
  const scale = useMemo(() => timeScale(points), [points]);
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
        <Stat label="Errors, 5 min" value={String(totals.errors)} testId="total-errors" />
        <Stat label="In, 5 min" value={formatBytes(totals.bytesIn)} />
        <Stat label="Out, 5 min" value={formatBytes(totals.bytesOut)} />
        <Stat label="Open streams" value={String(latest?.openStreams ?? 0)} />
      </div>
      {points.length === 0 ? (
        <p className="empty">The graphs fill in once a second while the agent runs.</p>
      ) : (
        <div className="charts">
          <TimeSeriesChart
            title="Requests per second"
            testId="chart"
            data={points}
            scale={scale}
            format={perSecond}
            integers
            series={[
              { dataKey: 'requests', name: 'requests/s', color: 'var(--accent)' },
              { dataKey: 'errors', name: 'errors/s', color: 'var(--bad)' },
            ]}
          />
          <TimeSeriesChart
            title="Latency of the requests ended each second"
            testId="latency-chart"
            data={points}
            scale={scale}
            format={milliseconds}
            series={[
              { dataKey: 'latencyMs.p50', name: 'p50', color: 'var(--ok)' },
              { dataKey: 'latencyMs.p95', name: 'p95', color: 'var(--accent-2)' },
              { dataKey: 'latencyMs.p99', name: 'p99', color: 'var(--bad)' },
            ]}
          />
          <TimeSeriesChart
            title="Bytes per second"
            testId="bytes-chart"
            data={points}
            scale={scale}
            format={bytesPerSecond}
            area
            series={[
              { dataKey: 'bytesIn', name: 'in (to service)', color: 'var(--accent)' },
              { dataKey: 'bytesOut', name: 'out (to client)', color: 'var(--accent-2)' },
            ]}
          />
          <TimeSeriesChart
            title="Open streams"
            testId="streams-chart"
            data={points}
            scale={scale}
            integers
            series={[{ dataKey: 'openStreams', name: 'open streams', color: 'var(--accent-2)', step: true }]}
          />
        </div>
      )}
    </section>
  );
}

function sum(points: readonly ThroughputPoint[]): { requests: number; errors: number; bytesIn: number; bytesOut: number } {
  return points.reduce((acc, p) => ({ requests: acc.requests + p.requests, errors: acc.errors + p.errors, bytesIn: acc.bytesIn + p.bytesIn, bytesOut: acc.bytesOut + p.bytesOut }), {
    requests: 0,
    errors: 0,
    bytesIn: 0,
    bytesOut: 0,
  });
}
