// The agent's connection lifecycle: the states and the transitions allowed
// between them (grpc-js subchannel style); anything else is ignored.

export enum AgentState {
  Idle = 'idle',
  Connecting = 'connecting',
  Ready = 'ready',
  Backoff = 'backoff',
  Closed = 'closed',
}

const allowedTransitions: Record<AgentState, AgentState[]> = {
  [AgentState.Idle]: [AgentState.Connecting, AgentState.Closed],
  [AgentState.Connecting]: [AgentState.Ready, AgentState.Backoff, AgentState.Closed],
  [AgentState.Ready]: [AgentState.Backoff, AgentState.Closed],
  [AgentState.Backoff]: [AgentState.Connecting, AgentState.Closed],
  [AgentState.Closed]: [],
};

export function canMove(from: AgentState, to: AgentState): boolean {
  return allowedTransitions[from].includes(to);
}
