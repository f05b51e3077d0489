"""Block parameters: tags, hex numbers, EIP-1898 objects, historic state, blocks above the head,
and the one place `pending` differs from `latest` (`eth_getTransactionCount`).

On this chain every committed block is final, so `safe` and `finalized` name the head, and
`pending` reads the head state (docs/design.md).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from helpers import DEV_ADDRESSES, DEV_KEYS, ThreadedNode
from rpc_tools import (
    ETHER,
    call,
    calldata,
    deploy_token,
    error_of,
    nonce_of,
    send,
    sign,
    start_node,
    transact,
    transfer_data,
)

pytestmark = pytest.mark.timeout(60)

ABOVE_HEAD = "0x100000"
ALICE, BOB = DEV_ADDRESSES[0], DEV_ADDRESSES[1]


@dataclass
class Chain:
    """Block 1: Alice sends Bob one ether. Block 2: Alice deploys the token. Block 3: Alice sends
    Bob 1000 tokens."""

    url: str
    token: str
    blocks: list[dict[str, Any]]
    """Blocks 0 to 3, as `eth_getBlockByNumber` returned them."""

    def hash(self, number: int) -> str:
        return self.blocks[number]["hash"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    node = start_node(tmp_path_factory.mktemp("block-params") / "node")
    try:
        url = node.url
        transact(url, DEV_KEYS[0], to=BOB, value=ETHER)
        token = deploy_token(url, DEV_KEYS[0])
        transact(url, DEV_KEYS[0], to=token, data=transfer_data(BOB, 1000), gas=100_000)
        blocks = [call(url, "eth_getBlockByNumber", [hex(n), False]) for n in range(4)]
        assert call(url, "eth_blockNumber") == "0x3"
        yield Chain(url, token, blocks)
    finally:
        node.stop()


def _token_balance(chain: Chain, holder: str, block: Any) -> int:
    data = calldata("balanceOf(address)", ["address"], [holder])
    return int(call(chain.url, "eth_call", [{"to": chain.token, "data": data}, block]), 16)


# --- tags and numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["latest", "pending", "safe", "finalized"])
def test_head_tags_name_the_head(chain: Chain, tag: str) -> None:
    assert call(chain.url, "eth_getBlockByNumber", [tag, False])["hash"] == chain.hash(3)
    assert call(chain.url, "eth_getBalance", [BOB, tag]) == call(
        chain.url, "eth_getBalance", [BOB, "0x3"]
    )


def test_earliest_is_genesis(chain: Chain) -> None:
    genesis = call(chain.url, "eth_getBlockByNumber", ["earliest", False])
    assert genesis["number"] == "0x0"
    assert genesis["hash"] == chain.hash(0)
    assert int(call(chain.url, "eth_getBalance", [BOB, "earliest"]), 16) == 10_000 * ETHER


@pytest.mark.parametrize("number", ["0x2", "0x02", "0X2"])
def test_hex_numbers(chain: Chain, number: str) -> None:
    assert call(chain.url, "eth_getBlockByNumber", [number, False])["hash"] == chain.hash(2)
    assert call(chain.url, "eth_getTransactionCount", [ALICE, number]) == "0x2"


@pytest.mark.parametrize(
    "block",
    [
        {"blockNumber": "0x1"},
        "hash",
        {"blockHash": "hash"},
        {"blockHash": "hash", "requireCanonical": True},
        {"blockHash": "hash", "requireCanonical": False},
    ],
    ids=["number", "bare-hash", "hash", "canonical", "not-canonical"],
)
def test_eip1898_block_objects(chain: Chain, block: Any) -> None:
    if block == "hash":
        block = chain.hash(1)
    elif "blockHash" in block:
        block = {**block, "blockHash": chain.hash(1)}
    url = chain.url
    assert int(call(url, "eth_getBalance", [BOB, block]), 16) == 10_001 * ETHER
    assert call(url, "eth_getTransactionCount", [ALICE, block]) == "0x1"
    assert call(url, "eth_getCode", [chain.token, block]) == "0x"
    assert call(url, "eth_getStorageAt", [chain.token, "0x2", block]) == "0x" + "00" * 32
    proof = call(url, "eth_getProof", [BOB, [], block])
    assert int(proof["balance"], 16) == 10_001 * ETHER


def test_unknown_block_hash_is_header_not_found(chain: Chain) -> None:
    unknown = "0x" + "ab" * 32
    for block in (
        unknown,
        {"blockHash": unknown},
        {"blockHash": unknown, "requireCanonical": True},
    ):
        error = error_of(chain.url, "eth_getBalance", [BOB, block])
        assert error["code"] == -32000
        assert error["message"] == "header not found"


def test_block_object_needs_one_key(chain: Chain) -> None:
    error = error_of(
        chain.url, "eth_getBalance", [BOB, {"blockNumber": "0x1", "blockHash": chain.hash(1)}]
    )
    assert error["code"] == -32602
    assert "invalid argument 1 (block)" in error["message"]


# --- historic state ------------------------------------------------------------------------------


def test_balances_at_older_blocks(chain: Chain) -> None:
    url = chain.url
    before = int(call(url, "eth_getBalance", [BOB, "0x0"]), 16)
    after = int(call(url, "eth_getBalance", [BOB, "0x1"]), 16)
    latest = int(call(url, "eth_getBalance", [BOB, "latest"]), 16)
    assert after - before == ETHER
    assert latest == after  # Bob has not spent anything since
    alice_before = int(call(url, "eth_getBalance", [ALICE, "0x0"]), 16)
    alice_latest = int(call(url, "eth_getBalance", [ALICE, "latest"]), 16)
    assert alice_latest < alice_before - ETHER  # the ether plus three transactions' fees


def test_code_storage_nonce_and_calls_at_older_blocks(chain: Chain) -> None:
    url = chain.url
    assert call(url, "eth_getCode", [chain.token, "0x1"]) == "0x"
    assert len(call(url, "eth_getCode", [chain.token, "0x2"])) > 2
    assert call(url, "eth_getTransactionCount", [ALICE, "0x0"]) == "0x0"
    assert call(url, "eth_getTransactionCount", [ALICE, "latest"]) == "0x3"
    assert _token_balance(chain, BOB, "0x2") == 0
    assert _token_balance(chain, BOB, "0x3") == 1000
    assert _token_balance(chain, BOB, {"blockHash": chain.hash(3)}) == 1000
    # balanceOf[Bob] is slot keccak(Bob . 3); the total supply (slot 2) never changed
    assert call(url, "eth_getStorageAt", [chain.token, "0x2", "0x2"]) == call(
        url, "eth_getStorageAt", [chain.token, "0x2", "latest"]
    )


def test_estimate_and_logs_at_older_blocks(chain: Chain) -> None:
    url = chain.url
    transfer = {"from": BOB, "to": chain.token, "data": transfer_data(ALICE, 1)}
    reverted = error_of(url, "eth_estimateGas", [transfer, "0x2"])  # Bob had no tokens yet
    assert reverted["code"] == 3
    assert int(call(url, "eth_estimateGas", [transfer, "0x3"]), 16) > 21_000
    logs = call(url, "eth_getLogs", [{"fromBlock": "0x3", "toBlock": "0x3"}])
    assert [log["blockNumber"] for log in logs] == ["0x3"]
    assert call(url, "eth_getLogs", [{"fromBlock": "earliest", "toBlock": "0x1"}]) == []


# --- above the head ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_getBalance", [BOB, ABOVE_HEAD]),
        ("eth_getBalance", [BOB, {"blockNumber": ABOVE_HEAD}]),
        ("eth_getTransactionCount", [BOB, ABOVE_HEAD]),
        ("eth_getCode", [BOB, ABOVE_HEAD]),
        ("eth_getStorageAt", [BOB, "0x0", ABOVE_HEAD]),
        ("eth_call", [{"to": BOB}, ABOVE_HEAD]),
        ("eth_estimateGas", [{"to": BOB}, ABOVE_HEAD]),
        ("eth_getProof", [BOB, [], ABOVE_HEAD]),
        ("eth_feeHistory", ["0x1", ABOVE_HEAD, []]),
    ],
)
def test_state_above_the_head_is_header_not_found(
    chain: Chain, method: str, params: list[Any]
) -> None:
    error = error_of(chain.url, method, params)
    assert error["code"] == -32000
    assert error["message"] == "header not found"


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_getBlockByNumber", [ABOVE_HEAD, False]),
        ("eth_getBlockByNumber", ["0x4", True]),
        ("eth_getBlockTransactionCountByNumber", [ABOVE_HEAD]),
        ("eth_getTransactionByBlockNumberAndIndex", [ABOVE_HEAD, "0x0"]),
        ("eth_getBlockReceipts", [ABOVE_HEAD]),
    ],
)
def test_blocks_above_the_head_are_null(chain: Chain, method: str, params: list[Any]) -> None:
    assert call(chain.url, method, params) is None


# --- pending ----------------------------------------------------------------------------------------


def test_pending_nonce_counts_pooled_transactions(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    call(url, "evm_setAutomine", [False])
    for nonce in (0, 1):
        send(url, sign(DEV_KEYS[0], nonce=nonce, to=BOB, value=1))
    send(url, sign(DEV_KEYS[0], nonce=3, to=BOB, value=1))  # a gap: queued, not pending

    assert call(url, "txpool_status") == {"pending": "0x2", "queued": "0x1"}
    assert nonce_of(url, ALICE, "latest") == 0
    assert nonce_of(url, ALICE, "pending") == 2
    assert nonce_of(url, BOB, "pending") == 0
    # `pending` state reads are the head state: the pooled value has not moved yet.
    assert call(url, "eth_getBalance", [BOB, "pending"]) == call(url, "eth_getBalance", [BOB])

    call(url, "evm_mine")

    assert call(url, "eth_blockNumber") == "0x1"
    assert nonce_of(url, ALICE, "latest") == 2
    assert nonce_of(url, ALICE, "pending") == 2
    assert call(url, "txpool_status") == {"pending": "0x0", "queued": "0x1"}
