// A recorded request as code to send it again: curl, fetch or HTTPie, made
// by httpsnippet from the request's HAR form. httpsnippet (~120 modules with
// its dependencies) loads on the first snippet asked for, not with every
// server and agent.
import type { RequestDetail, SnippetTarget } from '../../shared/contract.js';
import { bodyShortfall, harRequest } from './har.js';

const targets: Record<HttpSnippetTarget, [target: 'shell' | 'javascript', client: string]> = {
  curl: ['shell', 'curl'],
  httpie: ['shell', 'httpie'],
  fetch: ['javascript', 'fetch'],
};

export type HttpSnippetTarget = Exclude<SnippetTarget, 'grpcurl'>;

export function isSnippetTarget(value: unknown): value is SnippetTarget {
  return value === 'grpcurl' || isHttpSnippetTarget(value);
}

export function isHttpSnippetTarget(value: unknown): value is HttpSnippetTarget {
  return typeof value === 'string' && Object.hasOwn(targets, value);
}

export async function requestSnippet(detail: RequestDetail, target: HttpSnippetTarget, origin?: string): Promise<{ snippet: string; warning?: string }> {
  const { HTTPSnippet } = await import('httpsnippet');
  const [language, client] = targets[target];
  const request = harRequest(detail, origin);
  // httpsnippet's type wants postData even for a request without a body.
  const converted = new HTTPSnippet({ ...request, postData: request.postData ?? { mimeType: 'application/octet-stream' } }).convert(language as never, client);
  const snippet = Array.isArray(converted) ? converted.join('\n') : converted || '';
  const shortfall = bodyShortfall(detail.requestBody);
  const warning = request.postData?.comment ?? (shortfall && `${shortfall}: the snippet sends only those`);
  return warning === undefined ? { snippet } : { snippet, warning };
}
