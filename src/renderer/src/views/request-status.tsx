// A request's kind and outcome as the list and the detail show them.
import type { RequestSummary } from '../../../shared/contract';
import { requestOutcome } from '../store/request-outcome';

export function protocolLabel(protocol: RequestSummary['protocol']): string {
  return protocol === 'grpc' ? 'gRPC' : protocol === 'websocket' ? 'WebSocket' : 'HTTP';
}

export function StatusCell({ row }: { row: RequestSummary }) {
  const outcome = requestOutcome(row);
  return (
    <span className={`badge ${outcome.tone}`} title={outcome.detail ?? outcome.label} data-testid="status">
      {outcome.label}
    </span>
  );
}
