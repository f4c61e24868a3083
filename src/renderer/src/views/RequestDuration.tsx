// How long a request took, or, while it is under way, how long it has run so
// far (it showed '…' however long that was).
import type { RequestSummary } from '../../../shared/contract';
import { formatDuration, formatElapsed } from '../lib/format';
import { useNow } from '../lib/use-now';

export function RequestDuration({ row }: { row: Pick<RequestSummary, 'state' | 'startedAt' | 'durationMs'> }) {
  if (row.state !== 'in-flight' || row.durationMs !== undefined) return <>{formatDuration(row.durationMs)}</>;
  return <RunningFor startedAt={row.startedAt} />;
}

function RunningFor({ startedAt }: { startedAt: number }) {
  const now = useNow();
  return (
    <span className="muted" title="under way">
      {formatElapsed(Math.max(0, now - startedAt))}
    </span>
  );
}
