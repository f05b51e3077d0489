"""The HTTP and WebSocket JSON-RPC server (aiohttp).

One port serves both, as Hardhat and Anvil do: `POST /` for HTTP JSON-RPC and a WebSocket
upgrade on `GET /` for subscriptions. `GET /health` answers the head for container health checks.
With `explorer` on, `/explorer/` serves the explorer page (`rpc/explorer.py`).

Defaults are safe: the server binds 127.0.0.1 unless told otherwise; requests must carry
`Content-Type: application/json` (which makes browsers send a CORS preflight, so a web page cannot
post to the node behind the user's back); the `Host` header must be an IP literal or one of the
allowed virtual hosts (DNS rebinding protection, as geth's `--http.vhosts`); bodies, batches and
WebSocket messages are bounded, and a slow WebSocket reader is disconnected rather than buffered
without bound.
"""

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from openledger.rpc import (
    debug,
    dev,
    eth_exec,
    eth_read,
    eth_tools,
    explorer,
    filters,
    impersonation,
    logs,
    misc,
    ol,
)
from openledger.rpc.api import NodeAPI
from openledger.rpc.codec import encode_json
from openledger.rpc.dispatch import (
    Dispatcher,
    MethodTable,
    RequestContext,
    RequestObserver,
    namespace_of,
)
from openledger.rpc.errors import INVALID_REQUEST
from openledger.rpc.fees import FeeOracle
from openledger.rpc.filters import FilterManager

log = logging.getLogger("openledger.rpc")

DEFAULT_TABLES: tuple[MethodTable, ...] = (
    eth_read.methods,
    eth_exec.methods,
    logs.methods,
    filters.methods,
    misc.methods,
    dev.methods,
    ol.methods,
    debug.methods,
    eth_tools.methods,
    impersonation.methods,
)

NAMESPACES: frozenset[str] = frozenset(
    namespace_of(name) for table in DEFAULT_TABLES for name in table.methods
)
"""Every namespace the server has (`eth`, `debug`, `anvil`...), for `--http.api`."""


@dataclass(frozen=True, slots=True)
class RpcConfig:
    """Where and how the server listens."""

    host: str = "127.0.0.1"
    """Address to bind; 127.0.0.1 unless the operator opens it up."""
    port: int = 8545
    """TCP port; 0 picks a free one (tests)."""
    cors_domains: tuple[str, ...] = ()
    """Origins browsers may call from; "*" allows any. Empty: no CORS headers."""
    vhosts: tuple[str, ...] = ("localhost",)
    """Host names accepted in the Host header besides IP literals; "*" accepts any."""
    websocket: bool = True
    """Serve WebSocket upgrades on the same port."""
    max_body_bytes: int = 5 * 1024 * 1024
    """Largest request body or WebSocket message (geth's limit)."""
    max_batch: int = 1000
    """Most requests in one batch (geth's limit)."""
    max_ws_connections: int = 256
    """Most concurrent WebSocket connections."""
    ws_queue_size: int = 10_000
    """Notifications buffered per WebSocket before a slow reader is dropped."""
    max_connections: int = 512
    """Most open TCP connections (HTTP and WebSocket); more are closed as they arrive."""
    idle_timeout: float = 15.0
    """Seconds a connection may stay without a complete request header (idle keep-alive
    connections included) before it is closed."""
    body_timeout: float = 30.0
    """Seconds a client has to send a request body once its header arrived."""
    explorer: bool = False
    """Serve the explorer page at /explorer/ (and send browsers opening / there)."""
    namespaces: frozenset[str] | None = None
    """The method namespaces served (`--http.api`); None serves all of them."""


class RpcServer:
    """The JSON-RPC service; `run()` serves until cancelled."""

    def __init__(
        self,
        api: NodeAPI,
        config: RpcConfig,
        *,
        tables: Iterable[MethodTable] = DEFAULT_TABLES,
        observer: RequestObserver | None = None,
    ) -> None:
        self.api = api
        self.config = config
        self.dispatcher = Dispatcher(
            tables, max_batch=config.max_batch, observer=observer, namespaces=config.namespaces
        )
        self.filters = FilterManager(api.store)
        self.services: dict[str, Any] = {"filters": self.filters, "fees": FeeOracle(api.store)}
        self._connections: set[WsConnection] = set()
        self._site: web.TCPSite | None = None
        self.ready = asyncio.Event()
        api.on_block(self.filters.on_block)
        api.on_pending_transaction(self.filters.on_pending_transaction)

    @property
    def port(self) -> int:
        """The bound port (useful when configured with 0)."""
        if self._site is None or self._site._server is None:
            raise RuntimeError("the RPC server is not listening yet")
        sockets = self._site._server.sockets  # type: ignore[attr-defined]
        return int(sockets[0].getsockname()[1])

    def make_app(self) -> web.Application:
        """The aiohttp application (exposed for tests)."""
        app = web.Application(client_max_size=self.config.max_body_bytes, middlewares=[self._guard])
        app.router.add_post("/", self._handle_post)
        app.router.add_get("/", self._handle_get)
        app.router.add_get("/health", self._handle_health)
        app.router.add_route("OPTIONS", "/", self._handle_options)
        app.router.add_route("OPTIONS", "/{tail:.*}", self._handle_options)
        if self.config.explorer:
            explorer.add_routes(app)
        return app

    async def run(self) -> None:
        """Serve until cancelled; close every connection on the way out."""
        # aiohttp arms its keep-alive timer when a connection opens and re-arms it after each
        # response, and closes the connection if no whole request header arrived by then: a
        # client sending half a header cannot hold a connection longer than `idle_timeout`.
        runner = web.AppRunner(
            self.make_app(),
            access_log=None,
            handle_signals=False,
            keepalive_timeout=self.config.idle_timeout,
            # After an early answer (408, 413) aiohttp reads what is left of a body this long.
            lingering_time=min(10.0, self.config.idle_timeout),
        )
        await runner.setup()
        self._bound_connections(runner)
        try:
            self._site = web.TCPSite(runner, self.config.host, self.config.port, reuse_address=True)
            await self._site.start()
            log.info("JSON-RPC listening on http://%s:%d", self.config.host, self.port)
            self.ready.set()
            await asyncio.Event().wait()
        finally:
            for connection in list(self._connections):
                await connection.close()
            await runner.cleanup()

    def _bound_connections(self, runner: web.AppRunner) -> None:
        """Close connections beyond `max_connections` as they are accepted (aiohttp has no such
        setting), so that sockets, buffers and handler tasks stay bounded."""
        server = runner.server
        assert server is not None
        accept = server.connection_made

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            accept(handler, transport)
            if len(server.connections) > self.config.max_connections:
                log.debug("refusing a connection beyond %d", self.config.max_connections)
                handler.force_close()
                transport.abort()

        server.connection_made = connection_made  # type: ignore[method-assign]

    # --- HTTP -----------------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not self._host_allowed(request.host):
            return web.Response(status=403, text="invalid host specified\n")
        origin = request.headers.get("Origin")
        if origin is not None and not self._origin_allowed(origin) and request.method == "OPTIONS":
            return web.Response(status=403, text="origin not allowed\n")
        try:
            response = await handler(request)
        except web.HTTPRequestEntityTooLarge:
            response = _json_error(
                413, INVALID_REQUEST, f"request body larger than {self.config.max_body_bytes} bytes"
            )
        if origin is not None and self._origin_allowed(origin) and not response.prepared:
            response.headers.update(self._cors_headers(origin, request))
        return response

    async def _handle_post(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return web.Response(
                status=415, text="invalid content type, only application/json is supported\n"
            )
        if (
            request.content_length is not None
            and request.content_length > self.config.max_body_bytes
        ):
            return _json_error(
                413, INVALID_REQUEST, f"request body larger than {self.config.max_body_bytes} bytes"
            )
        try:
            body = await asyncio.wait_for(request.read(), self.config.body_timeout)
        except TimeoutError:
            log.debug("closing a connection whose request body did not arrive in time")
            return _json_error(408, INVALID_REQUEST, "request body timed out", close=True)
        except ConnectionError:
            # The client went away mid-request: nothing to answer, and nothing wrong here.
            log.debug("a client disconnected before sending its whole request")
            return web.Response(status=400)
        context = RequestContext(self.api, self.services)
        result = await self.dispatcher.handle_payload(body, context)
        if result is None:
            return web.Response(status=200)
        return web.Response(text=encode_json(result), content_type="application/json")

    async def _handle_get(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket" and self.config.websocket:
            return await self._serve_websocket(request)
        if self.config.explorer and explorer.wants_page(request):
            raise web.HTTPFound(explorer.PREFIX)
        return web.Response(
            status=405, text="send JSON-RPC requests with POST, or upgrade to a WebSocket\n"
        )

    async def _handle_health(self, request: web.Request) -> web.StreamResponse:
        head = self.api.store.head
        return web.json_response(
            {"ok": True, "head": head.block_number, "hash": "0x" + head.hash.hex()}
        )

    async def _handle_options(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=204)

    def _host_allowed(self, host: str) -> bool:
        vhosts = self.config.vhosts
        if "*" in vhosts:
            return True
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
        name = name.strip("[]")
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return name.lower() in vhosts
        return True

    def _origin_allowed(self, origin: str) -> bool:
        domains = self.config.cors_domains
        return "*" in domains or origin in domains

    def _cors_headers(self, origin: str, request: web.Request) -> dict[str, str]:
        requested = request.headers.get(
            "Access-Control-Request-Headers", "Content-Type, Authorization"
        )
        return {
            "Access-Control-Allow-Origin": "*" if "*" in self.config.cors_domains else origin,
            "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
            "Access-Control-Allow-Headers": requested,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        }

    # --- WebSocket ------------------------------------------------------------------------------

    async def _serve_websocket(self, request: web.Request) -> web.StreamResponse:
        if len(self._connections) >= self.config.max_ws_connections:
            return web.Response(status=503, text="too many WebSocket connections\n")
        socket = web.WebSocketResponse(max_msg_size=self.config.max_body_bytes, heartbeat=30)
        await socket.prepare(request)
        connection = WsConnection(socket, self.config.ws_queue_size)
        self._connections.add(connection)
        context = RequestContext(self.api, self.services, connection)
        writer = asyncio.create_task(connection.write_loop())
        in_flight: set[asyncio.Task[None]] = set()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    task = asyncio.create_task(self._answer(connection, context, message.data))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    if len(in_flight) > 64:
                        await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                elif message.type == WSMsgType.BINARY:
                    await self._answer(connection, context, message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            for task in in_flight:
                task.cancel()
            for subscription in connection.subscriptions:
                self.filters.subscriptions.pop(subscription, None)
            self._connections.discard(connection)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await socket.close()
        return socket

    async def _answer(self, connection: "WsConnection", context: RequestContext, body: Any) -> None:
        result = await self.dispatcher.handle_payload(body, context)
        if result is not None:
            connection.send(result)


@dataclass(eq=False)
class WsConnection:
    """One WebSocket client: its subscriptions and its bounded outgoing queue."""

    socket: web.WebSocketResponse
    queue_size: int
    subscriptions: set[str] = field(default_factory=set)
    _queue: asyncio.Queue[Any] = field(init=False)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(self.queue_size)

    def send(self, message: Any) -> None:
        """Queue a message; a client that stopped reading is disconnected."""
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("dropping a WebSocket client that does not read its messages")
            asyncio.get_running_loop().create_task(
                self.socket.close(code=1008, message=b"too slow")
            )

    def notify(self, subscription: str, result: Any) -> None:
        """Queue an `eth_subscription` notification."""
        self.send(
            {
                "jsonrpc": "2.0",
                "method": "eth_subscription",
                "params": {"subscription": subscription, "result": result},
            }
        )

    async def write_loop(self) -> None:
        """Send queued messages in order until the socket closes."""
        while not self.socket.closed:
            message = await self._queue.get()
            await self.socket.send_str(encode_json(message))

    async def close(self) -> None:
        """Close the socket."""
        await self.socket.close()


def _json_error(status: int, code: int, message: str, *, close: bool = False) -> web.Response:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    response = web.json_response(body, status=status)
    if close:
        response.force_close()
    return response
