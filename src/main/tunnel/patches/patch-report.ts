// Where private patches to pinned libraries (grpc-js, undici, ws) say whether
// they are in place. A patch that finds nothing to patch after an upgrade
// changes nothing, and says so once on stderr instead of failing unseen.

export type PatchName =
  | 'grpc-client-framing'
  | 'grpc-server-framing'
  | 'grpc-client-gathering'
  | 'grpc-server-gathering'
  | 'grpc-client-gathered-send'
  | 'grpc-server-gathered-send'
  | 'grpc-server-window'
  | 'grpc-server-sockets'
  | 'grpc-released-subchannel'
  | 'grpc-client-sockets'
  | 'undici-pool'
  | 'undici-connector'
  | 'undici-unasked-continue'
  | 'undici-bodiless-close'
  | 'net-read-after-send-failure'
  | 'node-http2-goaway-grace'
  | 'ws-close-reason'
  | 'ws-deferred-close-reply';

const status = new Map<PatchName, boolean>();

/** Records whether a patch is installed; the first time one is not, warns with what that costs. */
export function reportPatch(name: PatchName, installed: boolean, withoutIt: string): boolean {
  const known = status.get(name);
  status.set(name, installed);
  if (!installed && known !== false) {
    process.emitWarning(`private patch ${name} is not installed (library changed?): ${withoutIt}`, { code: 'BURROW_PATCH_MISSING' });
  }
  return installed;
}

/** What each patch reported so far (for tests and diagnostics). */
export function patchStatus(): ReadonlyMap<PatchName, boolean> {
  return status;
}
