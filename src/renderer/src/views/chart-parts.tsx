// Pieces the chart views share: a captioned, resizing chart frame, a stat
// card and the time-of-day tick format.
import type { ReactElement } from 'react';
import { ResponsiveContainer } from 'recharts';

export const clock = (at: number): string => new Date(at).toLocaleTimeString(undefined, { hour12: false });

export function Chart({ title, children, testId = 'chart' }: { title: string; children: ReactElement; testId?: string }) {
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={180}>
        {children}
      </ResponsiveContainer>
    </figure>
  );
}

export function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-value">{value}</div>
      <div className="muted">{label}</div>
    </div>
  );
}
