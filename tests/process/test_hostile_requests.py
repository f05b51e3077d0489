"""Requests meant to stop the node, sent to a real `openledger dev` process.

A real process because the worst of them crashed the interpreter (SIGSEGV): in-process, the crash
would take pytest with it instead of failing one test. After each, the node must still answer.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from helpers import NodeProcess, post, result, start_node_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

# About 140 KB, far under the body limit; the C JSON decoder of the standard library overran the
# C stack on it because py_ecc raises the recursion limit to 100,000.
DEEP = 70_000


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    directory = tmp_path
    process = start_node_process(["dev", "--datadir", str(directory / "chain")], directory / "log")
    try:
        yield process
    finally:
        process.stop()


def _alive(node: NodeProcess) -> None:
    assert node.process.poll() is None, f"the node exited:\n{node.log()}"
    assert result(node.url, "eth_chainId") == "0x539"


def test_deeply_nested_body_over_http_is_a_parse_error(node: NodeProcess) -> None:
    for body in ("[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP):
        status, response = post(node.url, body)
        assert status == 200
        assert response["id"] is None
        assert response["error"]["code"] == -32700, response
        _alive(node)


def test_deeply_nested_message_over_websocket_is_a_parse_error(node: NodeProcess) -> None:
    async def exchange() -> dict:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(node.url.replace("http", "ws")) as socket,
        ):
            await socket.send_str("[" * DEEP + "]" * DEEP)
            return await asyncio.wait_for(socket.receive_json(), 30)

    response = asyncio.run(exchange())
    assert response["id"] is None
    assert response["error"]["code"] == -32700, response
    _alive(node)


def test_deeply_nested_typed_data_string_is_refused(node: NodeProcess) -> None:
    account = result(node.url, "eth_accounts")[0]
    typed = "[" * DEEP + "]" * DEEP
    _, response = post(
        node.url,
        f'{{"jsonrpc":"2.0","id":1,"method":"eth_signTypedData_v4","params":["{account}","{typed}"]}}',
    )
    assert response["error"]["code"] == -32602, response
    assert "typedData" in response["error"]["message"]
    _alive(node)
