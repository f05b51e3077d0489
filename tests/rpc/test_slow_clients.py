"""Slow and vanishing clients, on raw sockets: a half-sent header or body cannot hold a connection
open, connections are bounded, and a client that disconnects mid-request is a DEBUG line, not an
ERROR traceback.

The node runs with short timeouts (1 s) so that the tests wait seconds, not the defaults.
"""

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import rpc
from rpc_tools import ConfiguredNode, start_node

pytestmark = pytest.mark.timeout(90)

TIMEOUT = 1.0
MAX_CONNECTIONS = 20
DEADLINE = 20.0  # far beyond the 1 s timeouts, for a busy machine


@pytest.fixture
def node(tmp_path: Path) -> Iterator[ConfiguredNode]:
    started = start_node(
        tmp_path / "node",
        idle_timeout=TIMEOUT,
        body_timeout=TIMEOUT,
        max_connections=MAX_CONNECTIONS,
    )
    try:
        yield started
    finally:
        started.stop()


def _connect(node: ConfiguredNode) -> socket.socket:
    host, port = node.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=DEADLINE)
    return connection


def _read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes; fails if it keeps the connection open."""
    received = b""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    pytest.fail(f"the server kept the connection open for {DEADLINE} s")


HALF_HEADER = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"
HEADER = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 200\r\n\r\n"
)


def test_half_sent_headers_are_closed(node: ConfiguredNode) -> None:
    connections = [_connect(node) for _ in range(MAX_CONNECTIONS // 2)]
    for connection in connections:
        connection.sendall(HALF_HEADER)
    for connection in connections:
        assert _read_until_closed(connection) == b""
        connection.close()
    assert rpc(node.url, "eth_chainId")["result"] == "0x539"


def test_a_body_that_never_arrives_times_out(node: ConfiguredNode) -> None:
    connection = _connect(node)
    connection.sendall(HEADER + b'{"jsonrpc":')
    answer = _read_until_closed(connection)
    connection.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"timed out" in answer


def test_connections_beyond_the_limit_are_closed(node: ConfiguredNode) -> None:
    held = [_connect(node) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)  # the server accepts them
        extra = _connect(node)
        extra.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _read_until_closed(extra) == b""
        extra.close()
    finally:
        for connection in held:
            connection.close()
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:  # the closed ones are forgotten, new clients served
        try:
            assert rpc(node.url, "eth_chainId", timeout=5)["result"] == "0x539"
            break
        except (ConnectionError, OSError):
            time.sleep(0.1)
    else:
        pytest.fail("the node did not serve again after the held connections closed")


def test_a_client_that_disconnects_mid_request_is_no_error(
    node: ConfiguredNode, caplog: pytest.LogCaptureFixture
) -> None:
    # On the logger itself: a CLI run earlier in the session may have set `openledger`'s level.
    caplog.set_level(logging.DEBUG, logger="openledger.rpc")
    for _ in range(5):
        connection = _connect(node)
        connection.sendall(HEADER + b'{"jsonrpc":')
        time.sleep(0.1)
        connection.close()
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline and not any(
        "disconnected" in record.getMessage() for record in caplog.records
    ):
        time.sleep(0.05)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any(
        record.levelno == logging.DEBUG and "disconnected" in record.getMessage()
        for record in caplog.records
    )
    assert rpc(node.url, "eth_chainId")["result"] == "0x539"
