"""The chain store: the genesis identity of a data directory, committed blocks with everything
indexed about them, and what survives a reopen."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from unit_helpers import (
    CHAIN_ID,
    EMITTER_A,
    EMITTER_B,
    FUNDED,
    RECIPIENT,
    VM_CLASS,
    LocalChain,
    make_genesis,
    sign,
)

from openledger.genesis.model import ETHER, Account
from openledger.genesis.types import Address, ChainId, Timestamp, Wei
from openledger.state.db import Overlay
from openledger.state.errors import GenesisMismatch, InvalidBlock
from openledger.state.genesis_state import build_genesis_header
from openledger.state.store import ChainStore, TransactionLocation

TOPIC_1 = (1).to_bytes(32, "big")
TOPIC_2 = (2).to_bytes(32, "big")
TOPIC_3 = (3).to_bytes(32, "big")


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalChain]:
    chain = LocalChain.open(tmp_path / "chain")
    try:
        yield chain
    finally:
        chain.store.close()


def emit(nonce: int, emitter: Address, topic0: bytes, topic1: bytes) -> bytes:
    """A transaction from account 0 that makes `emitter` log (topic0, topic1)."""
    return sign(0, nonce, to=emitter, gas=60_000, data=topic0 + topic1)


def genesis_hash_of(tmp_path: Path, name: str, **changes: object) -> bytes:
    store = ChainStore.open(tmp_path / name, make_genesis(**changes), VM_CLASS)
    try:
        return bytes(store.genesis_hash)
    finally:
        store.close()


# --- genesis -------------------------------------------------------------------------------------


def test_a_new_directory_starts_at_the_genesis_block(local: LocalChain) -> None:
    head = local.store.head

    assert head.block_number == 0
    assert head.hash == local.store.genesis_hash
    assert local.store.get_header(0) == head
    assert local.balance(FUNDED[0]) == 10_000 * ETHER


def test_the_genesis_hash_is_the_same_for_the_same_file(tmp_path: Path) -> None:
    assert genesis_hash_of(tmp_path, "a") == genesis_hash_of(tmp_path, "b")


@pytest.mark.parametrize(
    "changes",
    [
        {"alloc": (*make_genesis().alloc, (Address(b"\xff" * 20), Account(balance=Wei(1))))},
        {"timestamp": Timestamp(1)},
        {"gas_limit": 20_000_000},
        {"base_fee": Wei(7)},
        {"extra_data": b"\x01"},
        {"coinbase": Address(b"\x01" * 20)},
        {"mix_hash": b"\x01" * 32},
    ],
    ids=["alloc", "timestamp", "gasLimit", "baseFeePerGas", "extraData", "coinbase", "mixHash"],
)
def test_a_different_genesis_gives_a_different_hash(
    tmp_path: Path, changes: dict[str, object]
) -> None:
    assert genesis_hash_of(tmp_path, "a") != genesis_hash_of(tmp_path, "b", **changes)


def test_the_store_head_is_the_genesis_header_built_from_the_file(local: LocalChain) -> None:
    header = build_genesis_header(make_genesis(), Overlay(local.store.db))

    assert header == local.store.head


def test_opening_a_directory_with_another_genesis_names_both_hashes(tmp_path: Path) -> None:
    original = genesis_hash_of(tmp_path, "chain")
    other = make_genesis(timestamp=Timestamp(99))

    with pytest.raises(GenesisMismatch) as raised:
        ChainStore.open(tmp_path / "chain", other, VM_CLASS)

    message = str(raised.value)
    assert f"0x{original.hex()}" in message
    other_hash = genesis_hash_of(tmp_path, "other", timestamp=Timestamp(99))
    assert f"0x{other_hash.hex()}" in message
    # The refused open released the directory: the right genesis still opens it.
    ChainStore.open(tmp_path / "chain", make_genesis(), VM_CLASS).close()


# --- committing ----------------------------------------------------------------------------------


def test_commit_makes_the_block_the_head_with_its_state(local: LocalChain) -> None:
    executed = local.add_block([sign(0, 0, to=RECIPIENT, value=5)], certificate=b"cert-1")

    head = local.store.head
    assert head == executed.block.header
    assert head.block_number == 1
    assert local.store.get_header(1) == head
    assert local.store.get_header_by_hash(head.hash) == head
    assert local.balance(RECIPIENT) == 5
    assert local.nonce(FUNDED[0]) == 1
    assert local.store.get_commit(1) == b"cert-1"


def test_commit_refuses_a_block_that_does_not_extend_the_head(local: LocalChain) -> None:
    first = local.execute([sign(0, 0, value=1)])
    rival = local.execute([sign(0, 0, value=2)])
    local.store.commit(first, b"cert")

    with pytest.raises(InvalidBlock, match="does not extend the head 1"):
        local.store.commit(rival, b"rival")

    assert local.store.head == first.block.header
    assert local.balance(RECIPIENT) == 1
    assert local.store.get_commit(1) == b"cert"


def test_a_block_executed_but_not_committed_leaves_no_trace(local: LocalChain) -> None:
    transaction = sign(0, 0, value=1)
    executed = local.execute([transaction])

    assert local.store.head.block_number == 0
    assert local.store.get_header_by_hash(executed.block.hash) is None
    assert local.store.get_transaction_location(executed.block.transactions[0].hash) is None
    assert local.balance(RECIPIENT) == 0


def test_unknown_blocks_and_transactions_are_none(local: LocalChain) -> None:
    local.add_block()

    assert local.store.get_header(2) is None
    assert local.store.get_header(-1) is None
    assert local.store.get_header_by_hash(b"\x11" * 32) is None
    assert local.store.get_header_by_hash(b"short") is None
    assert local.store.get_transaction_location(b"\x22" * 32) is None
    assert local.store.get_commit(2) is None


def test_put_commit_replaces_a_certificate(local: LocalChain) -> None:
    local.add_block(certificate=b"first")

    local.store.put_commit(1, b"second")

    assert local.store.get_commit(1) == b"second"


# --- reopening -----------------------------------------------------------------------------------


def test_a_reopened_store_resumes_with_everything_intact(tmp_path: Path) -> None:
    local = LocalChain.open(tmp_path / "chain")
    blocks = [
        local.add_block([sign(0, 0, value=1), emit(1, EMITTER_A, TOPIC_1, TOPIC_2)]),
        local.add_block([]),
        local.add_block([emit(2, EMITTER_B, TOPIC_3, TOPIC_1)]),
    ]
    receipts = [[receipt.encode() for receipt in block.receipts] for block in blocks]
    local.store.close()

    reopened = LocalChain.open(tmp_path / "chain")
    try:
        store = reopened.store
        assert store.head == blocks[-1].block.header
        for number, executed in enumerate(blocks, start=1):
            header = store.get_header(number)
            assert header == executed.block.header
            assert store.get_block(header).transactions == executed.block.transactions
            assert [r.encode() for r in store.get_receipts(header)] == receipts[number - 1]
            assert store.get_commit(number) == reopened.sealer.seal(header)
        second = blocks[0].block.transactions[1]
        assert store.get_transaction_location(second.hash) == TransactionLocation(1, 1)
        assert list(store.find_log_blocks(0, 3, [EMITTER_B], [])) == [3]
        assert list(store.find_log_blocks(0, 3, [], [TOPIC_1])) == [1, 3]
        assert reopened.balance(RECIPIENT) == 1
        # ... and goes on from there.
        reopened.add_block([sign(0, 3, value=1)])
        assert (store.head.block_number, reopened.balance(RECIPIENT)) == (4, 2)
    finally:
        reopened.store.close()


def test_receipts_record_logs_and_cumulative_gas(local: LocalChain) -> None:
    executed = local.add_block([sign(0, 0), emit(1, EMITTER_A, TOPIC_1, TOPIC_2)])

    first, second = local.store.get_receipts(local.store.head)
    assert first.gas_used == 21_000
    assert second.gas_used > 21_000 + 21_000
    (log,) = second.logs
    assert (log.address, log.topics) == (EMITTER_A, (1, 2))
    assert executed.receipts[1].encode() == second.encode()


# --- the log index -------------------------------------------------------------------------------


@pytest.fixture
def logs(local: LocalChain) -> LocalChain:
    """Blocks 1..4: A logs (1, 2); nothing; B logs (3, 1); A logs (2, 3) and B logs (1, 1)."""
    local.add_block([emit(0, EMITTER_A, TOPIC_1, TOPIC_2)])
    local.add_block([sign(0, 1)])
    local.add_block([emit(2, EMITTER_B, TOPIC_3, TOPIC_1)])
    local.add_block([emit(3, EMITTER_A, TOPIC_2, TOPIC_3), emit(4, EMITTER_B, TOPIC_1, TOPIC_1)])
    return local


@pytest.mark.parametrize(
    ("first", "last", "addresses", "topics", "blocks"),
    [
        (0, 4, [EMITTER_A], [], [1, 4]),
        (0, 4, [EMITTER_B], [], [3, 4]),
        (0, 4, [EMITTER_A, EMITTER_B], [], [1, 3, 4]),
        (0, 4, [RECIPIENT], [], []),
        (2, 4, [EMITTER_A], [], [4]),
        (1, 1, [EMITTER_A], [], [1]),
        (2, 3, [EMITTER_A], [], []),
        (0, 4, [], [TOPIC_1], [1, 3, 4]),
        (0, 4, [], [TOPIC_2], [1, 4]),
        (0, 4, [], [TOPIC_3], [3, 4]),
        (0, 4, [], [TOPIC_2, TOPIC_3], [1, 3, 4]),
        (0, 3, [], [TOPIC_2], [1]),
        (0, 4, [], [b"\x09" * 32], []),
        (0, 4, [EMITTER_B], [TOPIC_2], [3, 4]),  # the address index answers; blooms decide later
        (1, 3, [], [], [1, 2, 3]),
    ],
)
def test_find_log_blocks(
    logs: LocalChain,
    first: int,
    last: int,
    addresses: list[bytes],
    topics: list[bytes],
    blocks: list[int],
) -> None:
    assert list(logs.store.find_log_blocks(first, last, addresses, topics)) == blocks


def test_the_chain_id_of_the_store_is_the_genesis_chain_id(tmp_path: Path) -> None:
    local = LocalChain.open(tmp_path / "chain", replace(make_genesis(), chain_id=ChainId(77)))
    try:
        assert local.store.chain_id == 77 != CHAIN_ID
    finally:
        local.store.close()


# --- rewinding (dev mode's evm_revert) -------------------------------------------------------------


def test_rewind_makes_an_earlier_block_the_head_and_forgets_the_later_ones(tmp_path: Path) -> None:
    local = LocalChain.open(tmp_path / "chain")
    first = local.add_block([sign(0, 0, value=1)])
    dropped = [
        local.add_block([sign(0, 1, value=1), emit(2, EMITTER_A, TOPIC_1, TOPIC_2)]),
        local.add_block([sign(0, 3, value=1)]),
    ]
    store = local.store
    store.rewind(1)
    assert store.head == first.block.header
    assert local.balance(RECIPIENT) == 1
    for number, executed in enumerate(dropped, start=2):
        assert store.get_header(number) is None
        assert store.get_header_by_hash(executed.block.hash) is None
        assert store.get_receipts(executed.block.header) == ()
        assert store.get_commit(number) is None
        for transaction in executed.block.transactions:
            assert store.get_transaction_location(transaction.hash) is None
    assert list(store.find_log_blocks(0, 3, [EMITTER_A], [])) == []
    with pytest.raises(InvalidBlock, match="cannot rewind to block 5"):
        store.rewind(5)
    store.close()

    # The rewind is on disk, and the chain goes on from it with other blocks at the same numbers.
    reopened = LocalChain.open(tmp_path / "chain")
    try:
        assert reopened.store.head == first.block.header
        replacement = reopened.add_block([sign(0, 1, value=5)])
        assert replacement.block.hash != dropped[0].block.hash
        assert reopened.store.get_header(2) == replacement.block.header
        (transaction,) = replacement.block.transactions
        assert reopened.store.get_transaction_location(transaction.hash) == TransactionLocation(
            2, 0
        )
        assert reopened.balance(RECIPIENT) == 6
        reopened.add_block([])
        assert reopened.store.head.block_number == 3
    finally:
        reopened.store.close()


def test_the_same_block_can_be_committed_again_after_a_rewind(local: LocalChain) -> None:
    """A dev chain that reverts and repeats a transaction in the same second makes the very same
    block again."""
    store = local.store
    executed = local.add_block([sign(0, 0, value=1)])
    store.rewind(0)
    again = local.add_block([sign(0, 0, value=1)])
    assert again.block.hash == executed.block.hash
    assert store.head == executed.block.header
    (transaction,) = executed.block.transactions
    assert store.get_transaction_location(transaction.hash) == TransactionLocation(1, 0)
    assert [r.encode() for r in store.get_receipts(store.head)] == [
        r.encode() for r in executed.receipts
    ]
    assert local.balance(RECIPIENT) == 1


def test_rewind_to_a_block_that_is_no_longer_canonical_changes_nothing(local: LocalChain) -> None:
    local.add_block([sign(0, 0, value=1)])
    head = local.add_block([sign(0, 1, value=1)]).block.header
    with pytest.raises(InvalidBlock, match="no longer canonical"):
        local.store.rewind(1, b"\x01" * 32)
    assert local.store.head == head
    assert local.store.get_header(2) == head
