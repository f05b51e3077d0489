"""Dev requests that reach the block producer (the chain's one writer) fail alone.

A bad `anvil_set*` value used to raise inside the producer; the exception left the node's task
group and the whole node stopped. Now bad values are refused at the RPC (-32602 naming the
parameter), and a failure inside the writer fails that request only (-32603): the node mines and
answers afterwards.
"""

from typing import Any

import pytest
from helpers import ThreadedNode
from rpc_tools import call, error_of

pytestmark = pytest.mark.timeout(60)

ACCOUNT = "0x" + "ab" * 20
WORD = "0x" + "00" * 31 + "07"


def _serving(node: ThreadedNode) -> None:
    assert node._task is not None and not node._task.done(), "the node stopped"
    before = int(call(node.url, "eth_blockNumber"), 16)
    call(node.url, "evm_mine")
    assert int(call(node.url, "eth_blockNumber"), 16) == before + 1


@pytest.mark.parametrize(
    ("method", "params", "named"),
    [
        ("anvil_setBalance", [ACCOUNT, "0x-1"], "1 (balance)"),
        ("anvil_setBalance", [ACCOUNT, -1], "1 (balance)"),
        ("anvil_setBalance", [ACCOUNT, "0x1" + "0" * 64], "1 (balance)"),
        ("hardhat_setBalance", [ACCOUNT, "0x 10"], "1 (balance)"),
        ("anvil_setNonce", [ACCOUNT, "0x-5"], "1 (nonce)"),
        ("anvil_setNonce", [ACCOUNT, "0x" + "f" * 16], "1 (nonce)"),
        ("anvil_setStorageAt", [ACCOUNT, "0x-1", WORD], "1 (slot)"),
        ("anvil_setStorageAt", [ACCOUNT, "0x" + "1" * 65, WORD], "1 (slot)"),
        ("anvil_setStorageAt", [ACCOUNT, "0x0", "0x-7"], "2 (value)"),
        ("anvil_setStorageAt", [ACCOUNT, "0x0", "0x07"], "2 (value)"),
    ],
)
def test_bad_account_changes_are_refused_and_the_node_serves(
    dev_node: ThreadedNode, method: str, params: list[Any], named: str
) -> None:
    error = error_of(dev_node.url, method, params)
    assert error["code"] == -32602, error
    assert f"invalid argument {named}" in error["message"]
    _serving(dev_node)


def test_a_failure_inside_the_writer_fails_only_that_request(dev_node: ThreadedNode) -> None:
    node = dev_node.node
    assert node is not None and node.dev is not None
    chain = node.dev.chain
    real_build, real_rewind = chain.build_block, chain.rewind

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected writer failure")

    snapshot = call(dev_node.url, "evm_snapshot")
    chain.build_block = failing  # type: ignore[method-assign]
    try:
        for method, params in (
            ("anvil_setBalance", [ACCOUNT, "0x1"]),
            ("evm_mine", []),
            ("anvil_mine", ["0x2"]),
        ):
            error = error_of(dev_node.url, method, params)
            assert error["code"] == -32603, (method, error)
    finally:
        chain.build_block = real_build  # type: ignore[method-assign]
    chain.rewind = failing  # type: ignore[method-assign]
    try:
        assert error_of(dev_node.url, "evm_revert", [snapshot])["code"] == -32603
    finally:
        chain.rewind = real_rewind  # type: ignore[method-assign]

    _serving(dev_node)
    assert call(dev_node.url, "anvil_setBalance", [ACCOUNT, "0x2a"]) is True
    assert call(dev_node.url, "eth_getBalance", [ACCOUNT, "latest"]) == "0x2a"


def test_time_travel_stops_at_the_largest_header_timestamp(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    for _ in range(2):
        error = error_of(url, "evm_increaseTime", ["0xffffffffffffffff"])
        assert error["code"] == -32602, error
        assert "invalid argument 0 (seconds)" in error["message"]
    assert int(call(url, "evm_increaseTime", [2**62]), 16) == 2**62
    error = error_of(url, "evm_increaseTime", [2**62 * 3])
    assert error["code"] == -32602, error
    for method, params, named in (
        ("evm_setNextBlockTimestamp", [2**64], "0 (timestamp)"),
        ("evm_mine", [2**70], "0 (timestamp)"),
        ("anvil_mine", ["0x2", "0xffffffffffffffff"], "1 (interval)"),
    ):
        error = error_of(url, method, params)
        assert error["code"] == -32602, (method, error)
        assert f"invalid argument {named}" in error["message"]
    call(url, "evm_mine")
    mined = int(call(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert 2**62 < mined < 2**64
    _serving(dev_node)


def test_a_node_without_dev_controls_answers_time_travel_with_method_not_found(
    dev_node: ThreadedNode,
) -> None:
    node = dev_node.node
    assert node is not None
    controls, node.dev = node.dev, None  # as a validator or RPC node has
    try:
        error = error_of(dev_node.url, "evm_increaseTime", ["0x10"])
    finally:
        node.dev = controls
    assert error["code"] == -32601, error
