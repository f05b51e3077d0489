"""Test helpers shared by the suites: real dev nodes (in a thread or as a process), JSON-RPC over
real HTTP, and Solidity compiled with solc-js.

Everything binds 127.0.0.1 on a free port, and every wait has a deadline.
"""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openledger.node.service import Node, open_dev_node
from openledger.rpc.server import RpcConfig

REPO = Path(__file__).resolve().parent.parent
JS_DIR = REPO / "tests" / "js"
CONTRACTS = REPO / "tests" / "contracts"

DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
)
DEV_ADDRESSES = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
)


class ThreadedNode:
    """A real dev node (store, producer, aiohttp server) running in a background thread.

    Synchronous clients (web3.py, urllib) can call it from the test thread without blocking the
    node's event loop.
    """

    def __init__(self, datadir: Path, **options: Any) -> None:
        self.datadir = datadir
        self.options = options
        self.node: Node | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    @property
    def url(self) -> str:
        assert self.node is not None
        return f"http://127.0.0.1:{self.node.rpc.port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def start(self) -> "ThreadedNode":
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("the dev node did not start within 30 s")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(30)

    def call(self, coroutine_function: Any, *args: Any) -> Any:
        """Run `coroutine_function(*args)` on the node's loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine_function(*args), self._loop).result(30)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the test thread
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        rpc = RpcConfig(**{"port": 0, "cors_domains": ("*",), **self.options.pop("rpc", {})})
        self.node, self.spec = open_dev_node(self.datadir, rpc, **self.options)
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.ensure_future(self.node.run())
        waiter = asyncio.ensure_future(self.node.rpc.ready.wait())
        await asyncio.wait([self._task, waiter], return_when=asyncio.FIRST_COMPLETED)
        self._ready.set()
        with suppress(asyncio.CancelledError):
            await self._task


@contextmanager
def threaded_node(datadir: Path, **options: Any) -> Iterator[ThreadedNode]:
    node = ThreadedNode(datadir, **options).start()
    try:
        yield node
    finally:
        node.stop()


def rpc(url: str, method: str, params: list[Any] | None = None, *, timeout: float = 30) -> Any:
    """Call one JSON-RPC method; return the whole response object (result or error)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    return post(url, body, timeout=timeout)[1]


def post(
    url: str, body: str | bytes, *, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, Any]:
    """POST a raw body; return (HTTP status, decoded JSON or text)."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    if not payload:
        return status, None
    try:
        return status, json.loads(payload)
    except json.JSONDecodeError:
        return status, payload.decode(errors="replace")


def result(url: str, method: str, params: list[Any] | None = None) -> Any:
    """Call one method and return its result, failing the test on an error."""
    response = rpc(url, method, params)
    assert "error" not in response, f"{method} failed: {response['error']}"
    return response["result"]


# --- ABI -----------------------------------------------------------------------------------------


def normalize_abi_value(kind: str, value: Any) -> Any:
    """An eth-abi decoded value as the node's code holds it: addresses as 20 raw bytes."""
    if kind.endswith("[]"):
        return [normalize_abi_value(kind[:-2], item) for item in value]
    if kind == "address":
        return bytes.fromhex(value[2:])
    return value


# --- Solidity ------------------------------------------------------------------------------------

_compiled: dict[tuple[str, ...], dict[str, Any]] = {}


def compile_solidity(*paths: Path, include: Path | None = None) -> dict[str, Any]:
    """Compile with solc-js (tests/js); returns {name: {abi, bytecode, deployedBytecode}}."""
    key = (*tuple(str(path) for path in paths), str(include))
    if key not in _compiled:
        command = ["node", str(JS_DIR / "compile.mjs"), *map(str, paths)]
        if include is not None:
            command += ["--include", str(include)]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"solc failed:\n{completed.stderr}")
        _compiled[key] = json.loads(completed.stdout)
    return _compiled[key]


def run_js_suite(file: str, rpc_url: str, **env: str) -> None:
    """Run a `node --test` suite of tests/js against `rpc_url`; fail the test if any case fails."""
    completed = subprocess.run(
        ["node", "--test", "--test-reporter=spec", file],
        cwd=JS_DIR,
        env={**os.environ, "RPC_URL": rpc_url, **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "fail 0" in completed.stdout, completed.stdout


# --- node processes ------------------------------------------------------------------------------


@dataclass
class NodeProcess:
    """An `openledger` process started the way a user starts it."""

    process: subprocess.Popen[str]
    url: str
    log_path: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_node_process(args: list[str], log_path: Path, *, timeout: float = 60) -> NodeProcess:
    """Run `openledger ARGS` with `--http.port 0`; wait until it prints where it listens."""
    command = [sys.executable, "-m", "openledger.node.cli", *args]
    if "--http.port" not in args:
        command += ["--http.port", "0"]
    log_file = log_path.open("w")
    process = subprocess.Popen(
        command,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + timeout
    pattern = re.compile(r"JSON-RPC listening on (http://[\d.]+:\d+)")
    while time.monotonic() < deadline:
        match = pattern.search(log_path.read_text(errors="replace"))
        if match:
            return NodeProcess(process, match.group(1), log_path)
        if process.poll() is not None:
            raise RuntimeError(
                f"openledger exited with {process.returncode}:\n{log_path.read_text()}"
            )
        time.sleep(0.05)
    process.kill()
    raise TimeoutError(f"openledger did not start within {timeout} s:\n{log_path.read_text()}")


def wait_for(
    predicate: Any, *, timeout: float = 30, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll `predicate` until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
