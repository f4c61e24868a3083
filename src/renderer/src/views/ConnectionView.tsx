// The agent's connection over time: heartbeat round trips to the edge, and a
// timeline of connects, disconnects with their reasons, data-stream resets,
// wakes and probes, newest first.
import type { ConnectionEvent } from '../../../shared/contract';
import { useApp } from '../app-context';
import { Stat, TimeSeriesChart, clock, milliseconds, timeScale } from './chart-parts';

const kindLabels: Record<ConnectionEvent['kind'], string> = {
  connecting: 'connecting',
  connected: 'connected',
  disconnected: 'disconnected',
  'data-stream-open': 'data stream open',
  'data-stream-lost': 'data stream lost',
  wake: 'wake',
  probe: 'probe',
};

export function ConnectionView() {
  const { events, roundTrips } = useApp((s) => s.connectionLog);
  const latest = roundTrips.at(-1);
  const disconnects = lostConnections(events);
  return (
    <section className="view connection" aria-labelledby="connection-title">
      <div className="view-head">
        <h2 id="connection-title">Connection</h2>
      </div>
      <div className="stat-cards">
        <Stat label="Round trip now" value={latest === undefined ? '–' : `${latest.ms} ms`} testId="rtt-now" />
        <Stat label="Disconnects" value={String(disconnects)} testId="disconnect-count" />
        <Stat label="Edge" value={latest?.server ?? events.at(-1)?.server ?? '–'} />
      </div>
      {roundTrips.length === 0 ? (
        <p className="empty">Round trips appear once the agent is connected (a heartbeat every few seconds).</p>
      ) : (
        <div className="charts">
          <TimeSeriesChart
            title="Heartbeat round trip"
            testId="rtt-chart"
            data={roundTrips}
            scale={timeScale(roundTrips)}
            format={milliseconds}
            series={[{ dataKey: 'ms', name: 'round trip', color: 'var(--accent)' }]}
          />
        </div>
      )}
      <ol className="timeline" aria-label="Connection timeline">
        {[...events].reverse().map((event, i) => (
          <li key={`${event.at}-${i}`} className={`timeline-item kind-${event.kind}`} data-testid="connection-event">
            <time dateTime={new Date(event.at).toISOString()}>{clock(event.at)}</time>
            <span className="timeline-kind">{kindLabels[event.kind]}</span>
            <span className="timeline-detail">{event.detail}</span>
            <span className="muted">{event.server}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Connections lost after they were up: each failed retry is on the timeline, but one outage is one disconnect (it counted 15 for 25 s). */
function lostConnections(events: readonly ConnectionEvent[]): number {
  let lost = 0;
  let up = false;
  for (const event of events) {
    if (event.kind === 'connected') up = true;
    else if (event.kind === 'disconnected' && up) {
      lost++;
      up = false;
    }
  }
  return lost;
}
