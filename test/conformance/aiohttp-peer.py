# An HTTP/1.1 service on aiohttp and a client on httpx (Debian's
# python3-aiohttp and python3-httpx): a server and a client that are neither
# Node's nor ours. python-http.test.ts runs the client against the service
# directly and through the tunnel and compares the outcomes.
#   aiohttp-peer.py serve            prints the port, serves until killed
#   aiohttp-peer.py call PORT HOST   prints each case's outcome as JSON
import asyncio
import hashlib
import json
import sys

import httpx
from aiohttp import web

MiB = 1024 * 1024
# Fields each hop sets for itself (the edge adds its own forwarding fields and request id).
hop_fields = {'date', 'server', 'connection', 'keep-alive', 'via', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'traceparent'}


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


def patterned(size):
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def fields(pairs):
    """Field names lowercased, in order by name; same-named fields keep their order."""
    return sorted(([name.lower(), value] for name, value in pairs if name.lower() not in hop_fields), key=lambda field: field[0])


async def echo(request):
    body = await request.read()
    # Host is the tunnel's name through it, the service's address directly.
    received = [(name.decode('latin1'), value.decode('latin1')) for name, value in request.raw_headers if name.lower() != b'host']
    return web.json_response({'method': request.method, 'target': request.raw_path, 'fields': fields(received), 'bytes': len(body), 'sha': sha(body)})


async def sized(request):
    return web.Response(body=patterned(int(request.match_info['size'])), content_type='application/octet-stream')


async def chunked(request):
    body = patterned(int(request.match_info['size']))
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    offset, step = 0, 1
    while offset < len(body):
        await response.write(body[offset:offset + step])
        offset += step
        step = min(step * 3 + 1, 300_000)
    await response.write_eof()
    return response


async def slowly(request):
    response = web.StreamResponse()
    await response.prepare(request)
    for part in range(5):
        await response.write(f'part {part}\n'.encode())
        await asyncio.sleep(0.1)
    await response.write_eof()
    return response


async def status(request):
    code = int(request.match_info['code'])
    if code in (204, 304):
        return web.Response(status=code, headers={'X-Why': 'status'})
    if code in (301, 307):
        return web.Response(status=code, headers={'Location': '/elsewhere?x=1'})
    return web.Response(status=code, text=f'status {code}', reason='Custom Reason')


async def cookies(request):
    response = web.Response(text='cookies')
    response.set_cookie('a', '1')
    response.set_cookie('b', '2', httponly=True)
    response.set_cookie('c', 'x y', path='/p')
    return response


async def large_field(request):
    return web.Response(text='large', headers={'X-Large': 'h' * int(request.match_info['size']), 'X-After': 'one'})


async def closing(request):
    return web.Response(text='closing', headers={'Connection': 'close'})


async def gzipped(request):
    response = web.Response(body=b'compress me ' * 10_000)
    response.enable_compression()
    return response


async def refused_unread(request):
    return web.Response(status=413, text='too large')


async def upload(request):
    digest = hashlib.sha256()
    size = 0
    async for chunk in request.content.iter_any():
        digest.update(chunk)
        size += len(chunk)
    return web.json_response({'bytes': size, 'sha': digest.hexdigest()[:16], 'chunked': request.headers.get('Transfer-Encoding')})


def serve():
    app = web.Application(client_max_size=64 * MiB)
    app.router.add_route('*', '/echo{tail:.*}', echo)
    app.router.add_get('/sized/{size}', sized)
    app.router.add_get('/chunked/{size}', chunked)
    app.router.add_get('/slowly', slowly)
    app.router.add_route('*', '/status/{code}', status)
    app.router.add_get('/cookies', cookies)
    app.router.add_get('/large-field/{size}', large_field)
    app.router.add_get('/closing', closing)
    app.router.add_get('/gzipped', gzipped)
    app.router.add_post('/refused-unread', refused_unread)
    app.router.add_post('/upload', upload)

    async def main():
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, '127.0.0.1', 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Future()

    asyncio.run(main())


async def outcome(case):
    try:
        return {'ok': await case}
    except Exception as error:  # a failure of the case itself, shown as such
        return {'exception': f'{type(error).__name__}: {str(error)[:200]}'}


async def call(port, host):
    results = {}
    async with httpx.AsyncClient(http1=True, http2=False, timeout=60, headers={'Host': host}) as client:
        base = f'http://127.0.0.1:{port}'

        async def fetch(method, path, **options):
            response = await client.request(method, base + path, **options)
            # The framing fields are each hop's own: a body's length comes either way.
            kept = [(name, value) for name, value in response.headers.multi_items() if name.lower() not in ('content-length', 'transfer-encoding')]
            return {'status': response.status_code, 'reason': response.reason_phrase, 'fields': fields(kept), 'bytes': len(response.content), 'sha': sha(response.content)}

        async def upload(body):
            return (await client.post(base + '/upload', content=body)).json()

        async def pieces(body):
            offset, step = 0, 1
            while offset < len(body):
                yield body[offset:offset + step]
                offset += step
                step = min(step * 5 + 3, 200_000)

        for size in [0, 1, 16384, 65535, 65537, MiB, MiB + 1, 4 * MiB + 1]:
            results[f'a response of {size} bytes'] = await outcome(fetch('GET', f'/sized/{size}'))
            results[f'a chunked response of {size} bytes'] = await outcome(fetch('GET', f'/chunked/{size}'))
            results[f'an upload of {size} bytes'] = await outcome(upload(patterned(size)))
            results[f'a chunked upload of {size} bytes'] = await outcome(upload(pieces(patterned(size))))
        fields_sent = [('X-Utf8', 'café'.encode()), ('X-Empty', ''), ('X-Twice', 'one'), ('x-twice', 'two'), ('Cookie', 'a=1; b=2')]
        async def echoed():
            response = await client.request('PATCH', base + '/echo/a%20b/../c?q=%E2%9C%93&x=1&x=2', headers=fields_sent, content=b'patch body')
            return response.json()

        results['a request as the service read it'] = await outcome(echoed())
        for code in [200, 201, 204, 206, 301, 304, 307, 400, 404, 418, 500, 503, 599]:
            results[f'status {code}'] = await outcome(fetch('GET', f'/status/{code}'))
            results[f'status {code} to HEAD'] = await outcome(fetch('HEAD', f'/status/{code}'))
        results['HEAD of a sized response'] = await outcome(fetch('HEAD', '/sized/100000'))
        results['three cookies'] = await outcome(fetch('GET', '/cookies'))
        for size in [1000, 16_000, 30_000]:
            results[f'a response field of {size} bytes'] = await outcome(fetch('GET', f'/large-field/{size}'))
        results['Connection: close'] = await outcome(fetch('GET', '/closing'))
        results['the request after it'] = await outcome(fetch('GET', '/sized/10'))
        results['gzip'] = await outcome(fetch('GET', '/gzipped', headers={'Accept-Encoding': 'gzip'}))
        results['a response written slowly'] = await outcome(fetch('GET', '/slowly'))
        results['413 before a 2 MiB upload is read'] = await outcome(fetch('POST', '/refused-unread', content=patterned(2 * MiB)))
        results['the request after that'] = await outcome(fetch('GET', '/sized/10'))
        answers = await asyncio.gather(*[client.get(base + f'/sized/{70_000 + i}') for i in range(100)])
        results['100 requests at once'] = sum(1 for i, answer in enumerate(answers) if answer.status_code == 200 and answer.content == patterned(70_000 + i))
    print(json.dumps(results))


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve()
    else:
        asyncio.run(call(int(sys.argv[2]), sys.argv[3]))
