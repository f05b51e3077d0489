"""JSON-RPC fuzzer: requests over every registered method's parameter shapes, and raw garbage
bodies, over HTTP and WebSocket, against a real dev node (store, block producer, aiohttp server)
in a thread.

Every answer must be JSON (strict: no NaN or Infinity), and each response a JSON-RPC 2.0 object
whose error, if any, has one of the codes the specification gives a client to act on; never
-32603 (internal error). The node logs no ERROR and no traceback, and still serves afterwards.
"""

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpers import ThreadedNode
from hypothesis import example, given
from hypothesis import strategies as st

from fuzz.conftest import FUZZ, ErrorLog, counted
from fuzz.rpc_shapes import RAW_BODY, request_for
from openledger.rpc.errors import INTERNAL_ERROR
from openledger.rpc.server import DEFAULT_TABLES

METHODS = {name: method for table in DEFAULT_TABLES for name, method in table.methods.items()}
ALLOWED_CODES = {-32700, -32600, -32601, -32602, -32000, -32001, -32002, -32003, -32004, -32005, 3}
"""Codes of execution-apis and EIP-1474; INTERNAL_ERROR (-32603) is a bug of ours, never an
answer to bad input."""
REQUEST_TIMEOUT = 15.0

# Inputs that once broke the node (issue 15), kept as explicit cases of the fuzzers.
DEEP = b"[" * 70_000 + b"]" * 70_000
"""Nested past the C stack once py_ecc has raised the recursion limit: the process died (SIGSEGV)."""
INFINITE_ID = b'{"jsonrpc":"2.0","id":1e400,"method":"eth_chainId"}'
"""Echoed back as `"id": Infinity`, which no JSON parser reads."""


class Crash(AssertionError):
    """An answer the JSON-RPC contract forbids."""


def _strict_json(text: str | bytes) -> Any:
    def refuse(name: str) -> Any:
        raise Crash(f"the answer holds {name}, which is not JSON")

    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError as error:
        raise Crash(f"the answer is not JSON ({error}): {text[:300]!r}") from None


def check_answer(body: bytes | str) -> None:
    """Raise Crash unless `body` is a JSON-RPC answer with allowed codes."""
    if not body:
        return  # notifications get no answer
    payload = _strict_json(body)
    responses = payload if isinstance(payload, list) else [payload]
    for response in responses:
        if not isinstance(response, dict) or response.get("jsonrpc") != "2.0":
            raise Crash(f"not a JSON-RPC response: {response!r:.300}")
        if response.get("method") == "eth_subscription":
            if not {"subscription", "result"} <= set(response.get("params") or {}):
                raise Crash(f"a malformed subscription notification: {response!r:.300}")
            continue
        if "error" in response:
            code = response["error"].get("code")
            if code == INTERNAL_ERROR or code not in ALLOWED_CODES:
                raise Crash(f"error code {code}: {response['error']!r:.500}")
        elif "result" not in response:
            raise Crash(f"a response with neither result nor error: {response!r:.300}")


def post_raw(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class WsClient:
    """One WebSocket connection driven from the (synchronous) test thread."""

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._run(self._open(url))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(REQUEST_TIMEOUT + 5)

    async def _open(self, url: str) -> None:
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(url, max_msg_size=0)

    def exchange(self, text: str) -> list[str]:
        """Send `text`, then a probe request; every message received until the probe's answer."""
        return self._run(self._exchange(text))

    async def _exchange(self, text: str) -> list[str]:
        assert self.ws is not None
        await self.ws.send_str(text)
        await self.ws.send_str('{"jsonrpc":"2.0","id":"probe","method":"eth_chainId"}')
        received = []
        async with asyncio.timeout(REQUEST_TIMEOUT):
            while True:
                message = await self.ws.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise Crash(f"the WebSocket ended: {message.type} {message.data!r}")
                if '"probe"' in message.data and '"0x' in message.data:
                    return received
                received.append(message.data)

    def close(self) -> None:
        async def close() -> None:
            if self.ws is not None:
                await self.ws.close()
            if self.session is not None:
                await self.session.close()

        self._run(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def fuzz_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedNode]:
    node = ThreadedNode(Path(tmp_path_factory.mktemp("fuzz-rpc")) / "node").start()
    try:
        assert node.node is not None and set(node.node.rpc.dispatcher.methods) == set(METHODS)
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def ws(fuzz_node: ThreadedNode) -> Iterator[WsClient]:
    client = WsClient(fuzz_node.ws_url)
    try:
        yield client
    finally:
        client.close()


def _send_http(node: ThreadedNode, name: str, body: bytes) -> None:
    with counted(name):
        _, answer = post_raw(node.url, body)
        check_answer(answer)


def _send_ws(client: WsClient, name: str, text: str) -> None:
    with counted(name):
        for answer in client.exchange(text):
            check_answer(answer)


def _assert_healthy(node: ThreadedNode, error_log: ErrorLog) -> None:
    assert not error_log.records, error_log.text()
    _, answer = post_raw(node.url, b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}')
    assert json.loads(answer)["result"] == "0x539"


@FUZZ
@given(request=request_for(METHODS))
@example(request={"jsonrpc": "2.0", "id": 1, "method": "eth_getStorageAt",
                  "params": ["0x" + "00" * 20, "0x-1", "latest"]})  # fmt: skip
@example(
    request={"jsonrpc": "2.0", "id": 1, "method": "evm_increaseTime", "params": ["0x-ffffffffffff"]}
)
@example(request={"jsonrpc": "2.0", "id": 1, "method": "anvil_setBalance",
                  "params": ["0x" + "11" * 20, "0x-1"]})  # fmt: skip
def test_every_method_over_http(fuzz_node: ThreadedNode, error_log: ErrorLog, request: Any) -> None:
    _send_http(fuzz_node, "json-rpc http (methods)", json.dumps(request).encode())
    assert not error_log.records, error_log.text()


@FUZZ
@given(batch=st.lists(request_for(METHODS), min_size=1, max_size=6))
def test_batches_over_http(fuzz_node: ThreadedNode, error_log: ErrorLog, batch: Any) -> None:
    _send_http(fuzz_node, "json-rpc http (batches)", json.dumps(batch).encode())
    assert not error_log.records, error_log.text()


@FUZZ
@given(body=RAW_BODY)
@example(body=DEEP)
@example(body=INFINITE_ID)
def test_garbage_bodies_over_http(
    fuzz_node: ThreadedNode, error_log: ErrorLog, body: bytes
) -> None:
    _send_http(fuzz_node, "json-rpc http (raw bodies)", body)
    assert not error_log.records, error_log.text()


@FUZZ
@given(request=request_for(METHODS))
@example(request={"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]})
@example(request={"jsonrpc": "2.0", "id": 2, "method": "evm_mine", "params": []})
@example(request={"jsonrpc": "2.0", "id": 3, "method": "evm_mine", "params": []})
def test_every_method_over_websocket(ws: WsClient, error_log: ErrorLog, request: Any) -> None:
    _send_ws(ws, "json-rpc ws (methods)", json.dumps(request))
    assert not error_log.records, error_log.text()


@FUZZ
@given(body=RAW_BODY)
@example(body=DEEP)
@example(body=INFINITE_ID)
def test_garbage_over_websocket(ws: WsClient, error_log: ErrorLog, body: bytes) -> None:
    _send_ws(ws, "json-rpc ws (raw bodies)", body.decode(errors="replace"))
    assert not error_log.records, error_log.text()


def test_the_node_serves_after_the_fuzzers(fuzz_node: ThreadedNode, error_log: ErrorLog) -> None:
    _assert_healthy(fuzz_node, error_log)
