// Each forwarded request once ended, as the agent's admin metrics count it:
// a gRPC call's status is its answer's, never one its client put in the
// trailers after its request body.
import { describe, expect, it } from 'vitest';
import { EndedRequests, type EndedRequest } from '../../src/main/service/ended-requests.js';

describe('EndedRequests', () => {
  it("takes a gRPC call's status from its answer's trailers, not from its request's, and counts bytes each way", () => {
    const ended: EndedRequest[] = [];
    const requests = new EndedRequests((request) => ended.push(request));
    requests.record({ kind: 'request-start', requestId: 'g', tunnel: 'rpc', protocol: 'grpc', method: 'POST', path: '/a.B/C', headers: [], remoteAddress: '', at: 0 });
    requests.record({ kind: 'body', requestId: 'g', direction: 'to-service', data: Buffer.alloc(7), at: 1 });
    requests.record({ kind: 'body', requestId: 'g', direction: 'to-client', data: Buffer.alloc(3), at: 1 });
    requests.record({ kind: 'trailers', requestId: 'g', direction: 'to-service', headers: [['grpc-status', '13']], at: 2 });
    requests.record({ kind: 'trailers', requestId: 'g', direction: 'to-client', headers: [['grpc-status', '5']], at: 3 });
    requests.record({ kind: 'request-end', requestId: 'g', status: 200, bytesIn: 0, bytesOut: 0, durationMs: 3, at: 3 });
    expect(ended).toEqual([{ tunnel: 'rpc', protocol: 'grpc', status: 200, grpcStatus: 5, bytesIn: 7, bytesOut: 3, durationMs: 3 }]);
    const before = new EndedRequests((request) => ended.push(request));
    before.record({ kind: 'request-start', requestId: 'h', tunnel: 'rpc', protocol: 'grpc', method: 'POST', path: '/a.B/C', headers: [], remoteAddress: '', at: 0 });
    before.record({ kind: 'trailers', requestId: 'h', direction: 'to-service', headers: [['grpc-status', '13']], at: 2 });
    before.record({ kind: 'request-end', requestId: 'h', status: 200, bytesIn: 1, bytesOut: 1, durationMs: 3, at: 3 });
    expect(ended[1]).not.toHaveProperty('grpcStatus');
  });
});
