# A WebSocket service and client built on Python's websockets (Debian's
# python3-websockets): an implementation neither ws nor ours, with its own
# framing, fragmentation and permessage-deflate. python-websockets.test.ts
# runs the client against the service directly and through the tunnel and
# compares the outcomes.
#   websockets-peer.py serve                                  prints the port, serves until killed
#   websockets-peer.py call PORT HOST deflate|none            prints each case's outcome as JSON
import asyncio
import hashlib
import json
import sys

import websockets

MiB = 1024 * 1024


def sha(data):
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:16]


async def serve_connection(ws, path=None):
    path = path or ws.path
    parts = path.split('/')
    if parts[1] == 'echo':
        try:
            async for message in ws:
                await ws.send(message)
        except websockets.ConnectionClosed:
            pass
    elif parts[1] == 'handshake':
        extensions = [type(extension).__name__ for extension in ws.extensions]
        await ws.send(json.dumps({'subprotocol': ws.subprotocol, 'extensions': extensions, 'path': path, 'header': ws.request_headers.get('x-custom')}))
        await ws.close()
    elif parts[1] == 'close':
        await ws.close(int(parts[2]), 'r' * int(parts[3]) if len(parts) > 3 else 'bye é')
    elif parts[1] == 'fragments':
        await ws.send(iter(['héllo ', 'wörld', ' ' * 70_000, 'end']))
        await ws.send(iter([b'\x00' * 10, b'\xff' * 70_000]))
        await ws.close()
    elif parts[1] == 'ping':
        pong = await ws.ping(b'p' * 125)
        await asyncio.wait_for(pong, 10)
        await ws.send('ponged')
        await ws.close()
    elif parts[1] == 'burst':
        for i in range(2000):
            await ws.send(f'm{i}' * 10)
        await ws.close()
    elif parts[1] == 'end-after-message':
        # The last message written, then the connection's end with no close frame: a service that exits.
        await ws.send('bye')
        if parts[2] == 'later':
            await asyncio.sleep(0.3)
        ws.transport.close()


async def serve():
    server = await websockets.serve(serve_connection, '127.0.0.1', 0, max_size=None, subprotocols=['chat', 'superchat'])
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()


async def outcome(case):
    try:
        return {'ok': await asyncio.wait_for(case(), 60)}
    except websockets.ConnectionClosed as closed:
        return {'closed': [closed.code, closed.reason]}
    except Exception as error:  # a failure of the case itself, shown as such
        return {'exception': f'{type(error).__name__}: {str(error)[:200]}'}


async def call(port, host, compression):
    def connect(path, **options):
        # Through the tunnel the URL carries the tunnel's host (the Host field) and the socket goes to 127.0.0.1.
        return websockets.connect(f'ws://{host}{path}', host='127.0.0.1', port=port, max_size=None, compression=compression, **options)

    results = {}
    for size in [0, 1, 125, 126, 127, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1, 4 * MiB, 4 * MiB + 1, 16 * MiB + 1]:
        async def echo(size=size):
            async with connect('/echo') as ws:
                binary = (bytes(range(256)) * (size // 256 + 1))[:size]
                text = 'é' * (size // 2)
                await ws.send(binary)
                echoed_binary = await ws.recv()
                await ws.send(text)
                echoed_text = await ws.recv()
                return [sha(echoed_binary) == sha(binary), echoed_text == text, type(echoed_binary).__name__, type(echoed_text).__name__]
        results[f'echo of {size} bytes'] = await outcome(echo)

    async def handshake():
        # The service takes the offer with the least sum of both sides' ranks: 'superchat' as offered, 'chat' were the offer reversed.
        async with connect('/handshake/x?y=1', subprotocols=['superchat', 'other', 'chat'], extra_headers={'X-Custom': 'value'}) as ws:
            return [json.loads(await ws.recv()), ws.subprotocol, [type(extension).__name__ for extension in ws.extensions]]
    results['handshake'] = await outcome(handshake)

    for code, reason_length in [(1000, None), (1001, None), (3000, None), (4999, 123), (1011, 0)]:
        async def server_close(code=code, reason_length=reason_length):
            async with connect(f'/close/{code}' + ('' if reason_length is None else f'/{reason_length}')) as ws:
                try:
                    await ws.recv()
                except websockets.ConnectionClosed as closed:
                    return [closed.code, closed.reason]
        results[f'the service closes with {code}'] = await outcome(server_close)

    async def client_close():
        async with connect('/echo') as ws:
            await ws.send('x')
            await ws.recv()
            await ws.close(4001, 'client says bye')
            return [ws.close_code, ws.close_reason]
    results['the client closes'] = await outcome(client_close)

    async def service_fragments():
        async with connect('/fragments') as ws:
            text, binary = await ws.recv(), await ws.recv()
            return [sha(text), len(text), sha(binary), len(binary)]
    results['a message the service sent in fragments'] = await outcome(service_fragments)

    async def client_fragments():
        async with connect('/echo') as ws:
            await ws.send(iter(['a' * 70_000, 'ü', 'b']))
            echoed = await ws.recv()
            return [len(echoed), sha(echoed)]
    results['a message the client sent in fragments'] = await outcome(client_fragments)

    async def service_ping():
        async with connect('/ping') as ws:
            return await ws.recv()
    results['a ping from the service'] = await outcome(service_ping)

    async def client_ping():
        async with connect('/echo') as ws:
            await asyncio.wait_for(await ws.ping(b'q' * 125), 10)
            return 'pong'
    results['a ping from the client'] = await outcome(client_ping)

    async def burst():
        async with connect('/burst') as ws:
            count = 0
            try:
                while True:
                    await ws.recv()
                    count += 1
            except websockets.ConnectionClosed as closed:
                return [count, closed.code]
    results['2000 messages, then a close'] = await outcome(burst)

    for when in ['at-once', 'later']:
        async def end_after_message(when=when):
            async with connect(f'/end-after-message/{when}') as ws:
                last = await ws.recv()
                try:
                    await ws.recv()
                except websockets.ConnectionClosed as closed:
                    return [last, closed.code]
        results[f'the service ends its connection after a message ({when})'] = await outcome(end_after_message)
    print(json.dumps(results))


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        asyncio.run(serve())
    else:
        asyncio.run(call(int(sys.argv[2]), sys.argv[3], None if sys.argv[4] == 'none' else 'deflate'))
