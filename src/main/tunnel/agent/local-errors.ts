// Short, human reasons for failures talking to the local service.

export function describeLocalError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is it running?)';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      return error.message;
  }
}

/**
 * The service answered with bytes that do not begin an HTTP/1.1 response:
 * most often an HTTP/2-only service (a gRPC server) sending its SETTINGS.
 * undici and Node's own client word it differently.
 */
export function answeredOtherThanHttp1(error: Error & { code?: string }): boolean {
  return error.code === 'HPE_INVALID_CONSTANT' || (error.name === 'HTTPParserError' && error.message.includes('Expected HTTP/'));
}
