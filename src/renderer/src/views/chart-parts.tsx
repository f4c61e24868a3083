// Pieces the chart views share: a captioned, resizing chart frame, a stat
// card, one time axis (the same domain, ticks and left margin on every chart
// of a view, so their times line up), the legend, and a tooltip in the
// page's colours (readable in dark mode).
import type { CSSProperties, ReactElement } from 'react';
import { Area, AreaChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

export const clock = (at: number): string => new Date(at).toLocaleTimeString(undefined, { hour12: false });
export const milliseconds = (value: number): string => `${value} ms`;

/** The time span the charts of a view share, with ticks on round seconds. */
export interface TimeScale {
  domain: [number, number];
  ticks: number[];
}

/** At least a minute wide, so that the first seconds have ticks to read and do not fill the chart. */
const minSpanMs = 60_000;

export function timeScale(points: readonly { at: number }[]): TimeScale {
  const last = points.at(-1)?.at ?? 0;
  const first = Math.min(points[0]?.at ?? last, last - minSpanMs);
  const span = last - first;
  const step = span > 180_000 ? 60_000 : span > 60_000 ? 30_000 : span > 20_000 ? 10_000 : 5_000;
  const ticks: number[] = [];
  for (let at = Math.ceil(first / step) * step; at <= last; at += step) ticks.push(at);
  return { domain: [first, last], ticks };
}

/** Every chart's value axis takes the same width, so the plots start at the same x. */
const valueAxisWidth = 76;

const tooltipBox: CSSProperties = { background: 'var(--bg-2)', border: '1px solid var(--border)', borderRadius: 6, color: 'var(--fg)', fontSize: 12.5 };

/** One line (or area) of a chart: its value's key in the points (a dotted path reaches into nested fields). */
export interface Series {
  dataKey: string;
  name: string;
  color: string;
  step?: boolean;
}

/** A captioned chart of series over time, on the view's shared time scale. */
export function TimeSeriesChart<T extends { at: number }>(props: {
  title: string;
  testId: string;
  data: readonly T[];
  scale: TimeScale;
  series: Series[];
  format?: (value: number) => string;
  integers?: boolean;
  area?: boolean;
}) {
  const { title, testId, scale, series, format, integers = false, area = false } = props;
  const data = props.data as T[];
  const parts = [
    <CartesianGrid key="grid" strokeDasharray="3 3" stroke="var(--grid)" />,
    <XAxis key="x" dataKey="at" type="number" scale="time" domain={scale.domain} ticks={scale.ticks} tickFormatter={clock} stroke="var(--muted)" />,
    <YAxis key="y" width={valueAxisWidth} stroke="var(--muted)" allowDecimals={!integers} {...(format !== undefined && { tickFormatter: format })} />,
    <Tooltip
      key="tooltip"
      contentStyle={tooltipBox}
      labelStyle={{ color: 'var(--fg)', fontWeight: 600 }}
      labelFormatter={(at) => clock(Number(at))}
      // The legend's order (the order drawn), not sorted by name.
      itemSorter={() => 0}
      {...(format !== undefined && { formatter: (value: unknown) => format(Number(value)) })}
    />,
    // In the order the series are drawn, not sorted by name.
    <Legend key="legend" verticalAlign="top" height={26} iconType="plainline" itemSorter={null} wrapperStyle={{ fontSize: 12.5 }} />,
  ];
  return (
    <Chart title={title} testId={testId}>
      {area ? (
        <AreaChart data={data}>
          {parts}
          {series.map((s) => (
            <Area key={s.dataKey} type="linear" dataKey={s.dataKey} name={s.name} stroke={s.color} fill={s.color} fillOpacity={0.2} isAnimationActive={false} />
          ))}
        </AreaChart>
      ) : (
        <LineChart data={data}>
          {parts}
          {series.map((s) => (
            <Line key={s.dataKey} type={s.step ? 'stepAfter' : 'linear'} dataKey={s.dataKey} name={s.name} stroke={s.color} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      )}
    </Chart>
  );
}

function Chart({ title, children, testId = 'chart' }: { title: string; children: ReactElement; testId?: string }) {
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={200}>
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
