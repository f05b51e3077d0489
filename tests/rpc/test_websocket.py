"""JSON-RPC over a WebSocket on the HTTP port, and `eth_subscribe`.

Blocks are mined with `evm_mine` sent over the same socket: the server queues a block's
notifications before it answers the `evm_mine` that produced the block, so "the next message is
the `evm_mine` answer" proves that no notification was sent, without waiting for a timeout.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from helpers import DEV_ADDRESSES, DEV_KEYS, ThreadedNode, rpc
from rpc_tools import (
    CHAIN_ID,
    TRANSFER_TOPIC,
    deploy_token,
    nonce_of,
    send,
    sign,
    topic_of,
    transfer_data,
)

from openledger.rpc import filters

pytestmark = pytest.mark.timeout(60)

MESSAGE_TIMEOUT = 10


class WsClient:
    """A JSON-RPC client on one WebSocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self._next_id = 0

    async def send(self, method: str, params: list[Any] | None = None) -> int:
        """Send a request; returns its id."""
        self._next_id += 1
        request = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or []}
        await self.socket.send_str(json.dumps(request))
        return self._next_id

    async def receive(self) -> Any:
        """The next message, response or notification."""
        message = await self.socket.receive(timeout=MESSAGE_TIMEOUT)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        return json.loads(message.data)

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        """Send a request; the next message must be its response, which is returned."""
        request_id = await self.send(method, params)
        response = await self.receive()
        assert response.get("id") == request_id, f"expected the answer to {method}: {response}"
        return response

    async def result(self, method: str, params: list[Any] | None = None) -> Any:
        response = await self.call(method, params)
        assert "error" not in response, response
        return response["result"]

    async def subscribe(self, *params: Any) -> str:
        subscription = await self.result("eth_subscribe", list(params))
        assert isinstance(subscription, str) and subscription.startswith("0x")
        return subscription  # type: ignore[no-any-return]

    async def notification(self, subscription: str) -> Any:
        """The next message, which must be a notification for `subscription`; its result."""
        message = await self.receive()
        assert message.get("method") == "eth_subscription", message
        assert "id" not in message
        assert message["params"]["subscription"] == subscription
        return message["params"]["result"]


@pytest.fixture
async def ws(dev_node: ThreadedNode) -> AsyncIterator[WsClient]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(dev_node.ws_url, timeout=aiohttp.ClientWSTimeout(ws_close=5)) as socket,
    ):
        yield WsClient(socket)


async def test_json_rpc_over_websocket(ws: WsClient) -> None:
    assert await ws.result("eth_chainId") == hex(CHAIN_ID)
    await ws.socket.send_str(
        json.dumps([{"jsonrpc": "2.0", "id": "a", "method": "eth_blockNumber"}, 5])
    )
    batch = await ws.receive()
    assert [item["id"] for item in batch] == ["a", None]
    assert batch[1]["error"]["code"] == -32600
    response = await ws.call("eth_noSuchMethod")
    assert response["error"]["code"] == -32601


async def test_new_heads_get_a_header_per_block(ws: WsClient, dev_node: ThreadedNode) -> None:
    subscription = await ws.subscribe("newHeads")
    for expected_number in (1, 2):
        await ws.send("evm_mine")
        head = await ws.notification(subscription)
        assert (await ws.receive())["result"] == "0x0"  # the evm_mine answer comes after
        block = rpc(dev_node.url, "eth_getBlockByNumber", [hex(expected_number), False])["result"]
        assert head["number"] == hex(expected_number)
        assert head["hash"] == block["hash"]
        assert head["parentHash"] == block["parentHash"]
        assert head["baseFeePerGas"] == block["baseFeePerGas"]


async def test_log_subscription_gets_only_matching_logs(
    ws: WsClient, dev_node: ThreadedNode
) -> None:
    url = dev_node.url
    watched = await asyncio.to_thread(deploy_token, url, DEV_KEYS[0])
    other = await asyncio.to_thread(deploy_token, url, DEV_KEYS[0])
    await ws.result("evm_setAutomine", [False])
    subscription = await ws.subscribe("logs", {"address": watched})

    async def transfer_on(token: str, amount: int) -> str:
        nonce = await asyncio.to_thread(nonce_of, url, DEV_ADDRESSES[0])
        raw = sign(
            DEV_KEYS[0], nonce=nonce, to=token, data=transfer_data(DEV_ADDRESSES[1], amount),
            gas=100_000,
        )  # fmt: skip
        return await asyncio.to_thread(send, url, raw)

    # A Transfer of the other token: nothing is sent before the evm_mine answer.
    await transfer_on(other, 5)
    assert (await ws.call("evm_mine"))["result"] == "0x0"

    tx_hash = await transfer_on(watched, 7)
    await ws.send("evm_mine")
    log = await ws.notification(subscription)
    assert (await ws.receive())["result"] == "0x0"
    assert log["address"] == watched.lower()
    assert log["transactionHash"] == tx_hash
    assert log["topics"] == [TRANSFER_TOPIC, topic_of(DEV_ADDRESSES[0]), topic_of(DEV_ADDRESSES[1])]
    assert int(log["data"], 16) == 7
    assert log["removed"] is False


async def test_pending_transaction_subscription_gets_the_hash(
    ws: WsClient, dev_node: ThreadedNode
) -> None:
    await ws.result("evm_setAutomine", [False])
    subscription = await ws.subscribe("newPendingTransactions")
    raw = sign(DEV_KEYS[1], nonce=0, to=DEV_ADDRESSES[2], value=1)

    tx_hash = await ws.send("eth_sendRawTransaction", [raw])
    pushed = await ws.notification(subscription)
    response = await ws.receive()
    assert response["id"] == tx_hash
    assert pushed == response["result"]


async def test_unsubscribe_stops_notifications(ws: WsClient) -> None:
    heads = await ws.subscribe("newHeads")
    pending = await ws.subscribe("newPendingTransactions")
    await ws.send("evm_mine")
    await ws.notification(heads)
    await ws.receive()

    assert await ws.result("eth_unsubscribe", [heads]) is True
    assert await ws.result("eth_unsubscribe", [heads]) is False
    assert await ws.result("eth_unsubscribe", [pending]) is True

    # No notification precedes the answers: neither the block nor the transaction is pushed.
    assert (await ws.call("evm_mine"))["result"] == "0x0"
    raw = sign(DEV_KEYS[2], nonce=0, to=DEV_ADDRESSES[3], value=1)
    assert (await ws.call("eth_sendRawTransaction", [raw]))["result"].startswith("0x")
    assert (await ws.call("evm_mine"))["result"] == "0x0"


async def test_subscriptions_are_per_connection(ws: WsClient, dev_node: ThreadedNode) -> None:
    subscription = await ws.subscribe("newHeads")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(dev_node.ws_url) as socket,
    ):
        stranger = WsClient(socket)
        assert await stranger.result("eth_unsubscribe", [subscription]) is False
    await ws.send("evm_mine")
    assert (await ws.notification(subscription))["number"] == "0x1"


async def test_unknown_subscription_kind_is_a_params_error(ws: WsClient) -> None:
    response = await ws.call("eth_subscribe", ["newBlocks"])
    assert response["error"]["code"] == -32602
    assert "invalid argument 0 (subscriptionName)" in response["error"]["message"]


def test_subscribe_over_http_says_a_websocket_is_needed(dev_node: ThreadedNode) -> None:
    response = rpc(dev_node.url, "eth_subscribe", ["newHeads"])
    assert "result" not in response
    assert "WebSocket" in response["error"]["message"]


def _topics(count: int) -> list[str]:
    return ["0x" + index.to_bytes(32, "big").hex() for index in range(count)]


async def test_kept_log_filters_are_bounded_in_size(ws: WsClient, dev_node: ThreadedNode) -> None:
    # 4 positions of 1,000 topics cost ~350 KB per subscription; kept filters take 128 in all.
    too_many_topics = {"topics": [_topics(100), _topics(29)]}
    too_many_addresses = {"address": ["0x" + i.to_bytes(20, "big").hex() for i in range(129)]}
    for criteria, problem in (
        (too_many_topics, "at most 128 topics"),
        (too_many_addresses, "at most 128 addresses"),
    ):
        error = (await ws.call("eth_subscribe", ["logs", criteria]))["error"]
        assert error["code"] == -32602, error
        assert "invalid argument 1 (filter)" in error["message"]
        assert problem in error["message"]
        error = rpc(dev_node.url, "eth_newFilter", [criteria])["error"]
        assert error["code"] == -32602, error
        assert problem in error["message"]
    assert await ws.subscribe("logs", {"topics": [_topics(32)] * 4})
    # A one-shot query is not kept, and takes geth's limits.
    assert rpc(dev_node.url, "eth_getLogs", [{"topics": [_topics(1000)] * 4}])["result"] == []


async def test_subscriptions_are_bounded_across_connections(
    ws: WsClient, dev_node: ThreadedNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filters, "MAX_SUBSCRIPTIONS", 3)
    await ws.subscribe("newHeads")
    await ws.subscribe("newHeads")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(dev_node.ws_url) as socket,
    ):
        other = WsClient(socket)
        await other.subscribe("newHeads")
        error = (await other.call("eth_subscribe", ["newHeads"]))["error"]
        assert error["code"] == -32005, error
        assert "too many subscriptions on this node (limit 3)" in error["message"]
    # Closing a connection gives its subscriptions back.
    for _ in range(50):
        if (await ws.call("eth_subscribe", ["newHeads"])).get("result"):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the closed connection's subscription was not released")
