"""The HTTP transport: CORS for browser dapps, Host checks against DNS rebinding, content type,
body and batch limits (with the server still serving everyone else), and the health endpoint.

Requests go through `http.client` or a raw socket so that every header (Host, Origin,
Content-Type, Transfer-Encoding) is exactly what the test says.
"""

import http.client
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Any

import pytest
from helpers import DEV_ADDRESSES, DEV_KEYS, ThreadedNode
from rpc_tools import (
    CHAIN_ID,
    ConfiguredNode,
    call,
    dumps,
    envelope,
    start_node,
    transact,
)

pytestmark = pytest.mark.timeout(60)

APP_ORIGIN = "https://app.example"
BODY_LIMIT = 64 * 1024
BATCH_LIMIT = 5
CHAIN_ID_REQUEST = dumps(envelope("eth_chainId"))
JSON = {"Content-Type": "application/json"}


@dataclass
class Reply:
    """An HTTP response as the client saw it."""

    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    method: str = "POST",
    path: str = "/",
    body: str | bytes | None = CHAIN_ID_REQUEST,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One HTTP request with exactly these headers (Host is set only if not given)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.msg, response.read())
    finally:
        connection.close()


def port_of(node: ThreadedNode) -> int:
    assert node.node is not None
    return node.node.rpc.port


@pytest.fixture(scope="module")
def restricted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfiguredNode]:
    """A node that allows one origin, small bodies and small batches."""
    node = start_node(
        tmp_path_factory.mktemp("transport") / "node",
        cors_domains=(APP_ORIGIN,),
        max_body_bytes=BODY_LIMIT,
        max_batch=BATCH_LIMIT,
    )
    try:
        yield node
    finally:
        node.stop()


def _answers(port: int) -> bool:
    reply = request(port, headers=JSON)
    return reply.status == 200 and reply.json()["result"] == hex(CHAIN_ID)


# --- CORS --------------------------------------------------------------------------------------


def test_preflight_from_any_origin_on_a_dev_node(dev_node: ThreadedNode) -> None:
    reply = request(
        port_of(dev_node),
        "OPTIONS",
        body=None,
        headers={
            "Origin": "https://some-dapp.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-metamask-origin",
        },
    )
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    allowed = reply.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "x-metamask-origin" in allowed
    assert int(reply.headers["Access-Control-Max-Age"]) > 0


def test_post_from_any_origin_carries_the_cors_header(dev_node: ThreadedNode) -> None:
    reply = request(port_of(dev_node), headers={**JSON, "Origin": "https://some-dapp.example"})
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.json()["result"] == hex(CHAIN_ID)


def test_preflight_from_the_allowed_origin(restricted: ConfiguredNode) -> None:
    reply = request(
        port_of(restricted),
        "OPTIONS",
        body=None,
        headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    assert "content-type" in reply.headers["Access-Control-Allow-Headers"].lower()
    assert int(reply.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in reply.headers["Vary"]


def test_preflight_from_another_origin_is_refused(restricted: ConfiguredNode) -> None:
    reply = request(
        port_of(restricted),
        "OPTIONS",
        body=None,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert reply.status == 403
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_post_from_another_origin_gets_no_cors_headers(restricted: ConfiguredNode) -> None:
    port = port_of(restricted)
    refused = request(port, headers={**JSON, "Origin": "https://evil.example"})
    allowed = request(port, headers={**JSON, "Origin": APP_ORIGIN})
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert allowed.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


def test_no_cors_headers_without_an_origin(restricted: ConfiguredNode) -> None:
    reply = request(port_of(restricted), headers=JSON)
    assert reply.status == 200
    assert not [name for name in reply.headers if name.lower().startswith("access-control-")]


# --- Host header (DNS rebinding) ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost.evil.example"])
def test_unknown_host_is_refused(dev_node: ThreadedNode, host: str) -> None:
    port = port_of(dev_node)
    for method, body in (("POST", CHAIN_ID_REQUEST), ("OPTIONS", None)):
        reply = request(port, method, body=body, headers={**JSON, "Host": host.format(port=port)})
        assert reply.status == 403, method
        assert b"invalid host" in reply.body


@pytest.mark.parametrize(
    "host",
    ["localhost:{port}", "localhost", "LOCALHOST:{port}", "127.0.0.1:{port}", "[::1]:{port}"],
)
def test_local_hosts_are_served(dev_node: ThreadedNode, host: str) -> None:
    port = port_of(dev_node)
    reply = request(port, headers={**JSON, "Host": host.format(port=port)})
    assert reply.status == 200
    assert reply.json()["result"] == hex(CHAIN_ID)


# --- content type, size limits -----------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_other_content_types_are_refused(dev_node: ThreadedNode, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    reply = request(port_of(dev_node), headers=headers)
    assert reply.status == 415
    assert b"application/json" in reply.body


def test_json_with_a_charset_is_accepted(dev_node: ThreadedNode) -> None:
    reply = request(port_of(dev_node), headers={"Content-Type": "application/json; charset=utf-8"})
    assert reply.status == 200
    assert reply.json()["result"] == hex(CHAIN_ID)


def _oversized_body() -> str:
    padding = "a" * (BODY_LIMIT + 1024)
    return dumps(envelope("eth_sendRawTransaction", ["0x" + padding]))


def test_body_over_the_limit_is_refused(restricted: ConfiguredNode) -> None:
    port = port_of(restricted)
    reply = request(port, body=_oversized_body(), headers=JSON)
    assert reply.status == 413
    error = reply.json()
    assert error["id"] is None
    assert error["error"]["code"] == -32600
    assert str(BODY_LIMIT) in error["error"]["message"]
    assert _answers(port)


def test_body_at_the_limit_is_served(restricted: ConfiguredNode) -> None:
    body = dumps(envelope("eth_chainId"))
    body = body[:-1] + " " * (BODY_LIMIT - len(body)) + "}"
    assert len(body) == BODY_LIMIT
    reply = request(port_of(restricted), body=body, headers=JSON)
    assert reply.status == 200
    assert reply.json()["result"] == hex(CHAIN_ID)


def test_slow_oversized_upload_does_not_block_other_clients(restricted: ConfiguredNode) -> None:
    # A chunked upload with no Content-Length: the server learns the size only while reading.
    port = port_of(restricted)
    uploader = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        uploader.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"[" * 8192
        sent = 0
        while sent <= BODY_LIMIT + len(chunk):
            try:
                uploader.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break  # the server has answered and stopped reading
            sent += len(chunk)
            # Meanwhile, another client is served.
            assert _answers(port)
            time.sleep(0.01)
        response = http.client.HTTPResponse(uploader)
        response.begin()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == -32600
    finally:
        uploader.close()
    assert _answers(port)


def test_batch_over_the_limit_is_refused(restricted: ConfiguredNode) -> None:
    port = port_of(restricted)
    too_many = [envelope("eth_chainId", request_id=i) for i in range(BATCH_LIMIT + 1)]
    reply = request(port, body=dumps(too_many), headers=JSON)
    assert reply.status == 200
    error = reply.json()
    error = error[0] if isinstance(error, list) else error
    assert error["error"]["code"] == -32005
    assert str(BATCH_LIMIT) in error["error"]["message"]

    at_limit = [envelope("eth_chainId", request_id=i) for i in range(BATCH_LIMIT)]
    reply = request(port, body=dumps(at_limit), headers=JSON)
    assert [item["id"] for item in reply.json()] == list(range(BATCH_LIMIT))
    assert _answers(port)


# --- health and other paths ---------------------------------------------------------------------


def test_health_reports_the_head(dev_node: ThreadedNode) -> None:
    port = port_of(dev_node)
    first = request(port, "GET", "/health", body=None).json()
    assert first["ok"] is True
    assert first["head"] == 0

    transact(dev_node.url, DEV_KEYS[0], to=DEV_ADDRESSES[1], value=1)

    reply = request(port, "GET", "/health", body=None)
    assert reply.status == 200
    health = reply.json()
    latest = call(dev_node.url, "eth_getBlockByNumber", ["latest", False])
    assert health["head"] == int(latest["number"], 16) == 1
    assert health["hash"] == latest["hash"]


def test_plain_get_is_told_to_post(dev_node: ThreadedNode) -> None:
    reply = request(port_of(dev_node), "GET", "/", body=None)
    assert reply.status == 405
    assert b"POST" in reply.body
