# A gRPC service and caller built on gRPC's C core (Debian's python3-grpcio),
# whose HTTP/2 stack (windows grown by BDP probes, HPACK, pings) is neither
# Node's nor ours. grpcio.test.ts runs the caller against the service
# directly and through the tunnel and compares the outcomes.
#   grpcio-peer.py serve                    prints the port, serves until killed
#   grpcio-peer.py call TARGET [AUTHORITY]  prints each case's outcome as JSON
import hashlib
import json
import sys
import time
from concurrent import futures

import grpc

MiB = 1024 * 1024
limits = [('grpc.max_receive_message_length', 64 * MiB), ('grpc.max_send_message_length', 64 * MiB), ('grpc.max_metadata_size', 256 * 1024)]


def raw(data):
    return data


def asked_size(context):
    return next((int(value) for key, value in context.invocation_metadata() if key == 'x-size'), None)


def unary(request, context):
    size = asked_size(context)
    return request if size is None else b'r' * size


def gzipped_unary(request, context):
    context.set_compression(grpc.Compression.Gzip)
    return request


def server_stream(request, context):
    count, size = map(int, request.decode().split(','))
    for i in range(count):
        yield bytes([65 + i % 26]) * size


def client_stream(requests, context):
    digest = hashlib.sha256()
    count = total = 0
    for message in requests:
        digest.update(message)
        count += 1
        total += len(message)
    return f'{count},{total},{digest.hexdigest()[:16]}'.encode()


def bidi(requests, context):
    for message in requests:
        yield message


def fail(request, context):
    code, details = request.decode().split(':', 1)
    context.set_trailing_metadata((('x-why', 'because'), ('x-blob-bin', b'\x00\x01\xff')))
    context.abort(grpc.StatusCode[code], details)


def slow(request, context):
    time.sleep(float(request.decode()))
    return b'late'


def metadata(request, context):
    received = [(key, value if isinstance(value, str) else value.hex()) for key, value in context.invocation_metadata() if key.startswith('x-')]
    context.send_initial_metadata((('x-initial', 'yes'), ('x-initial-bin', b'\xfe\x00')))
    context.set_trailing_metadata(tuple((key, value) for key, value in context.invocation_metadata() if key.startswith('x-')))
    return json.dumps(received).encode()


cancels = {'seen': None}


def until_cancelled(request, context):
    cancels['seen'] = None
    try:
        for _ in range(30_000):
            if not context.is_active():
                break
            yield b'x' * 1000
            time.sleep(0.001)
    finally:
        # Also when grpcio closes the generator at a yield, as it may on a cancel.
        cancels['seen'] = not context.is_active()


def last_cancel(request, context):
    return json.dumps(cancels).encode()


def serve():
    handlers = {
        'Unary': grpc.unary_unary_rpc_method_handler(unary, raw, raw),
        'GzippedUnary': grpc.unary_unary_rpc_method_handler(gzipped_unary, raw, raw),
        'ServerStream': grpc.unary_stream_rpc_method_handler(server_stream, raw, raw),
        'ClientStream': grpc.stream_unary_rpc_method_handler(client_stream, raw, raw),
        'Bidi': grpc.stream_stream_rpc_method_handler(bidi, raw, raw),
        'Fail': grpc.unary_unary_rpc_method_handler(fail, raw, raw),
        'Slow': grpc.unary_unary_rpc_method_handler(slow, raw, raw),
        'Metadata': grpc.unary_unary_rpc_method_handler(metadata, raw, raw),
        'UntilCancelled': grpc.unary_stream_rpc_method_handler(until_cancelled, raw, raw),
        'LastCancel': grpc.unary_unary_rpc_method_handler(last_cancel, raw, raw),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=limits)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler('burrow.conformance.Peer', handlers),))
    port = server.add_insecure_port('127.0.0.1:0')
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


def outcome(case):
    try:
        return {'ok': case()}
    except grpc.RpcError as error:
        trailers = [[key, value if isinstance(value, str) else value.hex()] for key, value in (error.trailing_metadata() or [])]
        return {'code': error.code().name, 'details': error.details(), 'trailers': trailers}
    except Exception as error:  # a failure of the case itself, shown as such
        return {'exception': repr(error)[:300]}


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


def patterned(size):
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def call(target, authority):
    options = list(limits)
    if authority:
        options.append(('grpc.default_authority', authority))
    channel = grpc.insecure_channel(target, options=options)

    def method(kind, name, **extra):
        return getattr(channel, kind)('/burrow.conformance.Peer/' + name, request_serializer=raw, response_deserializer=raw, **extra)

    unary_call = lambda name: method('unary_unary', name)
    results = {}
    # Around a DATA frame (16 KiB), Node's windows (64 KiB), the tunnel's body chunk and window (1 MiB), grpcio's default message limit (4 MiB).
    for size in [0, 1, 16379, 16384, 16385, 65535, 65536, 65537, MiB - 5, MiB, MiB + 1, 4 * MiB, 4 * MiB + 1]:
        body = patterned(size)
        results[f'unary echo of {size} bytes'] = outcome(lambda: sha(unary_call('Unary')(body, timeout=60)) == sha(body))
        results[f'unary answer of {size} bytes'] = outcome(lambda: len(unary_call('Unary')(b'', metadata=(('x-size', str(size)),), timeout=60)))
    for count, size in [(1000, 10), (100, 65537), (12, MiB + 1)]:
        results[f'server stream of {count} x {size}'] = outcome(lambda: [len(m) for m in method('unary_stream', 'ServerStream')(f'{count},{size}'.encode(), timeout=60)] == [size] * count)
    for count, size in [(1000, 10), (50, 65537), (6, MiB + 1)]:
        messages = [bytes([i % 256]) * size for i in range(count)]
        results[f'client stream of {count} x {size}'] = outcome(lambda: method('stream_unary', 'ClientStream')(iter(messages), timeout=60).decode())
        results[f'bidi stream of {count} x {size}'] = outcome(lambda: [sha(m) for m in method('stream_stream', 'Bidi')(iter(messages), timeout=60)] == [sha(m) for m in messages])

    def slow_reader():
        received = 0
        for message in method('unary_stream', 'ServerStream')(f'20,{MiB + 1}'.encode(), timeout=120):
            received += len(message)
            time.sleep(0.02)
        return received

    results['20 x 1 MiB read slowly'] = outcome(slow_reader)
    for code in ['INVALID_ARGUMENT', 'NOT_FOUND', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'INTERNAL', 'UNAUTHENTICATED']:
        results[f'a service failing {code}'] = outcome(lambda: unary_call('Fail')(f'{code}:détails – ünïcode 100% \n line 2'.encode(), timeout=10))
    results['a 20,000-character status message'] = outcome(lambda: unary_call('Fail')(('INTERNAL:' + 'd' * 20_000).encode(), timeout=10))
    results['past the deadline'] = outcome(lambda: unary_call('Slow')(b'2', timeout=0.5))
    results['within the deadline'] = outcome(lambda: unary_call('Slow')(b'0.2', timeout=10).decode())
    sent = (('x-plain', 'value'), ('x-blob-bin', b'\x00\xff\x10'), ('x-twice', 'one'), ('x-twice', 'two'), ('x-long', 'l' * 8000))

    def metadata_both_ways():
        answer, call_ = unary_call('Metadata').with_call(b'', metadata=sent, timeout=10)
        pairs = lambda fields: [[key, value if isinstance(value, str) else value.hex()] for key, value in fields if key.startswith('x-')]
        return {'received': json.loads(answer), 'initial': pairs(call_.initial_metadata()), 'trailing': pairs(call_.trailing_metadata())}

    results['metadata both ways'] = outcome(metadata_both_ways)
    results['an unknown method'] = outcome(lambda: unary_call('Missing')(b'', timeout=10))

    def cancel():
        stream = method('unary_stream', 'UntilCancelled')(b'', timeout=60)
        for index, _ in enumerate(stream):
            if index == 49:
                stream.cancel()
                break
        # The service sees the cancel on its next message (within 10 s on a busy machine).
        for _ in range(200):
            seen = json.loads(unary_call('LastCancel')(b'', timeout=10))['seen']
            if seen is not None:
                return seen
            time.sleep(0.05)
        return None

    results['a cancel reaches the service'] = outcome(cancel)
    gzip = {'compression': grpc.Compression.Gzip}
    results['gzip both ways, 1 MiB'] = outcome(lambda: sha(method('unary_unary', 'GzippedUnary')(patterned(MiB), timeout=30, **gzip)) == sha(patterned(MiB)))

    def concurrent():
        calls = [unary_call('Unary').future(bytes([i % 256]) * 70_000, timeout=60) for i in range(300)]
        return sum(1 for i, pending in enumerate(calls) if pending.result() == bytes([i % 256]) * 70_000)

    results['300 calls of 70,000 bytes at once'] = outcome(concurrent)
    print(json.dumps(results))


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve()
    else:
        call(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else '')
