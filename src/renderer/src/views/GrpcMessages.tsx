// A gRPC call's messages decoded by main (decodeGrpcMessages): what schema
// it used, a way to give the tunnel one (.proto or descriptor set), and the
// messages as JSON, or by field numbers without a schema.
import { useEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import type { GrpcDecoding, RequestDetail } from '../../../shared/contract';
import { useApi } from '../app-context';
import { CommandError } from '../lib/command-error';
import { useCommand } from '../lib/use-command';
import { latestOnly, type LatestOnly } from '../store/latest-only';
import { decodedKey, MessageList } from './MessageList';

/** Between two decodings of a call whose messages keep coming. */
const decodePauseMs = 250;

export function GrpcMessages({ detail }: { detail: RequestDetail }) {
  const api = useApi();
  const [decoding, setDecoding] = useState<{ requestId: string; value: GrpcDecoding } | undefined>();
  /** Bumped to decode again: a schema was loaded, or the user asked reflection again. */
  const [round, setRound] = useState({ count: 0, refresh: false });
  const { requestId, messageCount, state } = detail;
  // What the next decoding asks for; one runs at a time, the latest asked for next (at most a few a second).
  const asked = useRef({ requestId, refresh: false });
  const [decoder, setDecoder] = useState<LatestOnly | undefined>();
  useEffect(() => {
    const next = latestOnly(() => {
      const { requestId: id, refresh } = asked.current;
      return api.decodeGrpcMessages({ requestId: id, ...(refresh && { refresh: true }) }).then(
        (value) => setDecoding({ requestId: id, value }),
        // Gone from the log meanwhile: the previews stay on screen.
        () => undefined,
      );
    }, decodePauseMs);
    setDecoder(next);
    return () => next.stop();
  }, [api]);
  useEffect(() => {
    asked.current = { requestId, refresh: round.refresh };
    decoder?.request();
  }, [decoder, requestId, messageCount, state, round]);
  const shown = decoding?.requestId === requestId ? decoding.value : undefined;
  const decoded = useMemo(() => new Map(shown?.messages.map((message) => [decodedKey(message), message])), [shown]);
  return (
    <MessageList detail={detail} decoded={decoded}>
      <SchemaBar tunnel={detail.tunnel} decoding={shown} decodeAgain={(refresh) => setRound((r) => ({ count: r.count + 1, refresh }))} />
    </MessageList>
  );
}

function SchemaBar({ tunnel, decoding, decodeAgain }: { tunnel: string; decoding: GrpcDecoding | undefined; decodeAgain: (refresh: boolean) => void }) {
  const api = useApi();
  const command = useCommand();
  const [loaded, setLoaded] = useState<string | undefined>();
  const load = (event: ChangeEvent<HTMLInputElement>): void => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (file === undefined) return;
    void command.run(async () => {
      const base64 = await fileAsBase64(file);
      const result = await api.loadGrpcSchema({ tunnel, fileName: file.name, base64 });
      setLoaded(`${result.fileName}: ${result.services.join(', ')}`);
      decodeAgain(false);
    });
  };
  const schema = decoding?.schema;
  return (
    <div className="grpc-schema" data-testid="grpc-schema" data-source={schema?.source}>
      <span className={schema?.source === 'none' ? 'warn' : 'muted'}>
        {schema === undefined
          ? 'Decoding…'
          : schema.source === 'reflection'
            ? `Decoded by ${schema.detail}`
            : schema.source === 'file'
              ? `Decoded with ${schema.detail}`
              : `No schema, fields by number: ${schema.detail}`}
      </span>{' '}
      <label className="file-button">
        Load .proto or descriptor set…
        <input type="file" accept=".proto,.pb,.binpb,.desc,.protoset" disabled={command.busy} onChange={load} />
      </label>{' '}
      {schema?.source !== 'file' && (
        <button type="button" onClick={() => decodeAgain(true)}>
          Ask reflection again
        </button>
      )}
      {loaded && (
        <span className="muted" role="status">
          {' '}
          Loaded {loaded}
        </span>
      )}
      <CommandError error={command.error} />
    </div>
  );
}

function fileAsBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.readAsDataURL(file);
  });
}
