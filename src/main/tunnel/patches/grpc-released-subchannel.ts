// Keeps a closed grpc-js client from connecting after it is closed. A
// subchannel that failed to connect while a call waited on it is told to
// connect again once its backoff ends; closing the client releases it, but
// grpc-js keeps that order, so the connection is made anyway, to nobody's
// use, and held open for good. The agent closes its client after each
// failed attempt: an agent whose edges were down for a few seconds held
// hundreds of such connections to them once they were back (cluster audit).
// Around Subchannel.unref (grpc-js is pinned), a subchannel no channel holds
// forgets that order and goes idle when its backoff ends.
import { grpcInternal } from './grpc-internal.js';
import { reportPatch } from './patch-report.js';

interface SubchannelState {
  refcount: number;
  continueConnecting: boolean;
}

let installed: boolean | undefined;

/** Idempotent; whether it could install. */
export function installReleasedSubchannelIdle(): boolean {
  installed ??= reportPatch('grpc-released-subchannel', patch(), 'a closed client may connect once its server is back, and hold that connection');
  return installed;
}

function patch(): boolean {
  const Subchannel = grpcInternal('subchannel.js')?.Subchannel as { prototype: { unref?: (this: SubchannelState) => void } } | undefined;
  const unref = Subchannel?.prototype.unref;
  if (Subchannel === undefined || typeof unref !== 'function') return false;
  Subchannel.prototype.unref = function (this: SubchannelState) {
    unref.call(this);
    if (this.refcount === 0) this.continueConnecting = false;
  };
  return true;
}
