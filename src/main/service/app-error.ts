// Errors the app contract reports as values, each with a stable code.
export const AppErrorCode = {
  InvalidInput: 'BURROW_E_INVALID_INPUT',
  NotFound: 'BURROW_E_NOT_FOUND',
  Conflict: 'BURROW_E_CONFLICT',
  Internal: 'BURROW_E_INTERNAL',
  UnknownCommand: 'BURROW_E_UNKNOWN_COMMAND',
} as const;

export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}
