"""The read reference: a bare aiohttp server that answers every POST with one fixed JSON-RPC result.

It runs in its own process of the same Python, as the node does, so that the client code measures
what aiohttp and the loopback can do on this machine with no node behind them. It reads the body
(as any server must) but neither parses it nor does any work.

    python bench/bare_server.py        # prints "listening on PORT", serves until SIGTERM
"""

import asyncio
import signal

from aiohttp import web

RESPONSE = b'{"jsonrpc":"2.0","id":1,"result":"0x2a"}'


def main() -> None:
    """Serve on a free 127.0.0.1 port until SIGTERM or SIGINT."""
    asyncio.run(serve())


async def serve() -> None:
    """Serve until cancelled by a signal."""
    app = web.Application()
    app.router.add_post("/", answer)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    port = runner.addresses[0][1]
    print(f"listening on {port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


async def answer(request: web.Request) -> web.Response:
    """The fixed answer, after reading the request body."""
    await request.read()
    return web.Response(body=RESPONSE, content_type="application/json")


if __name__ == "__main__":
    main()
