"""JSON-RPC 2.0 dispatch: requests and batches in, responses out.

A method is a coroutine with declared parameters (`Param`: a name and a parser). The dispatcher
checks the envelope, parses each parameter, and turns every failure into the right error object:
malformed JSON -32700, a bad envelope -32600, an unknown method -32601, a bad parameter -32602
naming it, a refused transaction -32003, a revert 3 with its data. Notifications (no `id`) get no
response. Batches are bounded and answered as an array in request order.
"""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from openledger.genesis.errors import OpenLedgerError
from openledger.rpc.codec import decode_request_json
from openledger.rpc.errors import (
    INTERNAL_ERROR,
    INVALID_INPUT,
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    TRANSACTION_REJECTED,
    InvalidParams,
    RpcError,
)
from openledger.state.errors import InvalidTransaction

log = logging.getLogger("openledger.rpc")

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Param:
    """One positional parameter of a method."""

    name: str
    """Name used in error messages (as in the execution-apis specification)."""
    parse: Callable[[Any], Any]
    """Turns the JSON value into the handler's argument; raises ValueError when malformed."""
    default: Any = _MISSING
    """Value when the parameter is absent or null; without one the parameter is required."""


Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Method:
    """A JSON-RPC method."""

    name: str
    """The method name, e.g. `eth_getBalance`."""
    handler: Handler
    """Coroutine called with the request context and the parsed parameters."""
    params: tuple[Param, ...] = ()
    """Positional parameters, in order."""


class MethodTable:
    """Methods collected by a namespace module with the `method` decorator."""

    def __init__(self) -> None:
        self.methods: dict[str, Method] = {}

    def method(self, *names: str, params: Iterable[Param] = ()) -> Callable[[Handler], Handler]:
        """Register the decorated coroutine under each of `names` (aliases share a handler)."""
        declared = tuple(params)

        def register(handler: Handler) -> Handler:
            for name in names:
                self.methods[name] = Method(name, handler, declared)
            return handler

        return register


@dataclass
class RequestContext:
    """Per-connection context handed to every handler."""

    api: Any
    """The node, as seen through `rpc.api.NodeAPI`."""
    services: dict[str, Any] = field(default_factory=dict)
    """RPC-side services (filters, fee oracle) by name."""
    connection: Any = None
    """The WebSocket connection for subscriptions, None over HTTP."""


RequestObserver = Callable[[str, float, bool], None]
"""Called after each request with (method, seconds, succeeded), for metrics."""


def namespace_of(method_name: str) -> str:
    """The namespace of a method name: `debug` for `debug_traceTransaction`."""
    return method_name.partition("_")[0]


class Dispatcher:
    """Routes JSON-RPC payloads to methods."""

    def __init__(
        self,
        tables: Iterable[MethodTable],
        *,
        max_batch: int = 1000,
        observer: RequestObserver | None = None,
        namespaces: frozenset[str] | None = None,
    ) -> None:
        self.methods: dict[str, Method] = {}
        for table in tables:
            self.methods.update(table.methods)
        if namespaces is not None:  # a method outside them answers "does not exist", as in geth
            self.methods = {
                name: method
                for name, method in self.methods.items()
                if namespace_of(name) in namespaces
            }
        self.max_batch = max_batch
        self.observer = observer

    async def handle_payload(self, body: bytes | str, context: RequestContext) -> Any:
        """The JSON response to a raw payload, or None when nothing is to be sent back."""
        try:
            payload = decode_request_json(body)
        except ValueError as error:  # JSONDecodeError: bad syntax, bad UTF-8, too deep, NaN
            return _error_response(None, RpcError(PARSE_ERROR, f"parse error: {error}"))
        if isinstance(payload, list):
            if not payload:
                return _error_response(None, RpcError(INVALID_REQUEST, "empty batch"))
            if len(payload) > self.max_batch:
                return _error_response(
                    None,
                    RpcError(
                        LIMIT_EXCEEDED,
                        f"batch of {len(payload)} requests is larger than the limit of "
                        f"{self.max_batch}",
                    ),
                )
            responses = await asyncio.gather(
                *(self.handle_request(item, context) for item in payload)
            )
            answered = [response for response in responses if response is not None]
            return answered or None
        return await self.handle_request(payload, context)

    async def handle_request(self, request: Any, context: RequestContext) -> dict[str, Any] | None:
        """The response object to one request, or None for a notification."""
        if not isinstance(request, dict):
            return _error_response(
                None, RpcError(INVALID_REQUEST, "a request must be a JSON object")
            )
        request_id = request.get("id", _MISSING)
        is_notification = request_id is _MISSING
        if is_notification:
            request_id = None
        elif (
            not isinstance(request_id, str | int | float | type(None))
            or isinstance(request_id, bool)
            or (isinstance(request_id, float) and not math.isfinite(request_id))
        ):
            # An infinite id (1e400 in a decoder that allows it) would be echoed as Infinity,
            # which is no JSON: refuse it and answer with id null (JSON-RPC 2.0, section 5).
            return _error_response(
                None, RpcError(INVALID_REQUEST, "id must be a string, finite number or null")
            )
        started = time.perf_counter()
        name = request.get("method")
        if request.get("jsonrpc") != "2.0" or not isinstance(name, str):
            # Without a valid envelope it is no notification: the error goes back with id null
            # (JSON-RPC 2.0, section 5.1), as geth answers.
            is_notification = False
        try:
            if request.get("jsonrpc") != "2.0":
                raise RpcError(INVALID_REQUEST, 'jsonrpc must be "2.0"')
            if not isinstance(name, str):
                raise RpcError(INVALID_REQUEST, "method must be a string")
            method = self.methods.get(name)
            if method is None:
                raise RpcError(
                    METHOD_NOT_FOUND, f"the method {name} does not exist/is not available"
                )
            arguments = _parse_params(method, request.get("params", []))
            result = await method.handler(context, *arguments)
        except RpcError as error:
            self._observe(name, started, ok=False)
            return None if is_notification else _error_response(request_id, error)
        except InvalidTransaction as error:
            self._observe(name, started, ok=False)
            return (
                None
                if is_notification
                else _error_response(request_id, RpcError(TRANSACTION_REJECTED, str(error)))
            )
        except OpenLedgerError as error:
            self._observe(name, started, ok=False)
            return (
                None
                if is_notification
                else _error_response(request_id, RpcError(INVALID_INPUT, str(error)))
            )
        except Exception:
            log.exception("internal error in %s", name)
            self._observe(name, started, ok=False)
            return (
                None
                if is_notification
                else _error_response(request_id, RpcError(INTERNAL_ERROR, "internal error"))
            )
        self._observe(name, started, ok=True)
        if is_notification:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def _observe(self, name: Any, started: float, *, ok: bool) -> None:
        if self.observer is not None:
            known = name if isinstance(name, str) and name in self.methods else "unknown"
            self.observer(known, time.perf_counter() - started, ok)


def _parse_params(method: Method, raw: Any) -> list[Any]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise RpcError(-32602, "params must be an array (named parameters are not supported)")
    if len(raw) > len(method.params):
        raise RpcError(
            -32602,
            f"too many arguments, want at most {len(method.params)}, got {len(raw)}",
        )
    arguments = []
    for index, param in enumerate(method.params):
        value = raw[index] if index < len(raw) else None
        if value is None:
            if param.default is _MISSING:
                raise InvalidParams(index, param.name, "missing value for required argument")
            arguments.append(param.default)
            continue
        try:
            arguments.append(param.parse(value))
        except ValueError as error:
            raise InvalidParams(index, param.name, str(error)) from None
    return arguments


def _error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}
