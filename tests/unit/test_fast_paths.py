"""Differential test of the node's fast paths against the plain py-evm path.

Random sequences of blocks (transfers, contract deployments, calls that log, revert or run out
of gas, calls of the standard and OpenLedger precompiles) run twice on fresh chains:

- plain: Keccak-256 through eth-hash's pycryptodome backend, each transaction's signature
  checked by py-evm (`check_signature_validity`) before its sender is recovered, and the
  receipts read back by decoding them from LevelDB (a store opened afresh);
- fast, as the node runs: Keccak-256 through safe-pysha3, the sender recovered once by
  `decode_transaction`, and the receipts and transactions served from the store's block cache.

Every block's header (state, transaction and receipt roots, bloom, gas, hash), every receipt's
encoding and every log must be identical, and so must every sender. Then calls (value reads,
storage and balance reads, reverts, precompiles) are made at every block, heads interleaved:
through one `Chain` whose shared account reads serve them all (fast), and through a fresh `Chain`
per call (plain); every result must be identical.
"""

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unit_helpers import (
    BALANCE_READER,
    CHAIN_ID,
    EMITTER_A,
    FORWARDER,
    FUNDED,
    LOOPER,
    PROPOSER,
    RECIPIENT,
    RETURNER,
    REVERTER,
    SLOT_READER,
    SLOT_SETTER,
    make_genesis,
    sign,
)

from openledger.genesis.keccak import use_backend, use_fastest_backend
from openledger.genesis.model import ATTRIBUTION_ADDRESS, STAKING_ADDRESS
from openledger.genesis.types import Address, Gas, Wei
from openledger.node.chainspec import build_genesis, build_vm_class
from openledger.state.calls import CallRequest, CallResult, run_call
from openledger.state.execute import BlockBuilder, Chain
from openledger.state.fork import BlockInputs, OpenLedgerVM
from openledger.state.store import ChainStore
from openledger.state.transactions import decode_transaction

EMIT_RUNTIME = bytes.fromhex("602035600035" + "60006000a2" + "00")
"""LOG2 with topics CALLDATALOAD(0) and CALLDATALOAD(32)."""
CALLS = (
    CallRequest(FUNDED[0], RETURNER),
    CallRequest(FUNDED[1], SLOT_READER, data=bytes(31) + b"\x01"),
    CallRequest(FUNDED[2], BALANCE_READER),
    CallRequest(FUNDED[3], REVERTER, data=b"no"),
    CallRequest(FUNDED[4], RECIPIENT, value=Wei(1)),
    CallRequest(FUNDED[0], Address(bytes(19) + b"\x02"), data=b"abc"),
    CallRequest(FUNDED[1], STAKING_ADDRESS, data=b"\x00" * 4),
)
STANDARD_PRECOMPILES = tuple(Address(bytes(19) + bytes([n])) for n in (1, 2, 3, 4, 5))


def init_code(runtime: bytes) -> bytes:
    """Creation code that returns `runtime` (at most 32 bytes)."""
    size = len(runtime)
    push = bytes([0x5F + size]) + runtime  # PUSH<size> runtime
    return push + bytes.fromhex(f"600052{size:02x}{32 - size:02x}f3")


@dataclass(frozen=True, slots=True)
class Op:
    """One transaction to sign: what it does, who sends it, with which payload."""

    kind: str
    sender: int
    amount: int
    data: bytes
    target: int


OPS = st.builds(
    Op,
    kind=st.sampled_from(
        ["transfer", "deploy", "log", "revert", "out_of_gas", "store", "precompile", "native"]
    ),
    sender=st.integers(0, len(FUNDED) - 1),
    amount=st.integers(0, 10**18),
    data=st.binary(max_size=64),
    target=st.integers(0, 10),
)
BLOCKS = st.lists(st.lists(OPS, max_size=6), min_size=1, max_size=4)


def sign_blocks(blocks: Sequence[Sequence[Op]]) -> list[list[bytes]]:
    """The raw transactions of `blocks`, nonces counted per sender."""
    nonces = [0] * len(FUNDED)
    signed = []
    for block in blocks:
        raws = []
        for op in block:
            nonce = nonces[op.sender]
            nonces[op.sender] += 1
            raws.append(sign(op.sender, nonce, **_fields(op)))
        signed.append(raws)
    return signed


def _fields(op: Op) -> dict[str, object]:
    topics = op.data.ljust(64, b"\x00")
    natives = (STAKING_ADDRESS, ATTRIBUTION_ADDRESS)
    if op.kind == "transfer":
        return {"to": RECIPIENT if op.target % 2 else FUNDED[op.target % 5], "value": op.amount}
    if op.kind == "deploy":
        return {"to": None, "data": init_code(EMIT_RUNTIME), "gas": 200_000}
    if op.kind == "log":
        return {"to": EMITTER_A, "data": topics, "gas": 100_000}
    if op.kind == "revert":
        return {"to": REVERTER, "data": op.data, "gas": 100_000, "value": 0}
    if op.kind == "out_of_gas":
        return {"to": LOOPER, "gas": 60_000}
    if op.kind == "store":
        return {"to": FORWARDER if op.target % 2 else SLOT_SETTER, "gas": 200_000}
    if op.kind == "precompile":
        target = STANDARD_PRECOMPILES[op.target % len(STANDARD_PRECOMPILES)]
        return {"to": target, "data": op.data, "gas": 200_000}
    return {"to": natives[op.target % 2], "data": op.data, "gas": 300_000}


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything compared: per block, the header and the receipts; every sender."""

    headers: tuple[bytes, ...]
    receipts: tuple[tuple[bytes, ...], ...]
    logs: tuple[tuple[tuple[bytes, tuple[int, ...], bytes], ...], ...]
    senders: tuple[bytes, ...]
    calls: tuple[CallResult, ...]


@contextmanager
def keccak_backend(name: str) -> Iterator[None]:
    assert use_backend(name) == name
    try:
        yield
    finally:
        use_fastest_backend()


def run(signed: Sequence[Sequence[bytes]], *, fast: bool) -> Outcome:
    genesis = make_genesis()
    vm_class = build_vm_class(genesis)
    chain = Chain(vm_class, CHAIN_ID)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "chain"
        store = ChainStore.open(path, build_genesis(genesis), vm_class)
        senders = []
        try:
            for raws in signed:
                transactions = [_decode(raw, vm_class, fast=fast) for raw in raws]
                senders += [bytes(t.sender) for t in transactions]
                parent = store.head
                builder = BlockBuilder(
                    chain, store.db, parent, coinbase=PROPOSER,
                    timestamp=parent.timestamp + 1, extra_data=b"", mix_hash=bytes(32),
                    inputs=BlockInputs(PROPOSER),
                )  # fmt: skip
                for transaction in transactions:
                    builder.add_transaction(transaction)
                store.commit(builder.finish(), None)
            if not fast:
                store.close()
                store = ChainStore.open(path, build_genesis(genesis), vm_class)
            headers = [store.get_header(n) for n in range(1, store.head.block_number + 1)]
            receipts = [store.get_receipts(h) for h in headers if h is not None]
            for header in headers:
                assert header is not None
                decoded = [t.hash for t in _decoded_block(header, store, vm_class)]
                assert [t.hash for t in store.get_transactions(header)] == decoded
                assert list(store.get_transaction_hashes(header)) == decoded
            calls = tuple(
                run_call(chain if fast else Chain(vm_class, CHAIN_ID), store.db, header,
                         request, Gas(1_000_000))
                for request in CALLS for header in reversed(headers) if header is not None
            )  # fmt: skip
            return Outcome(
                headers=tuple(bytes(h.hash) + h.state_root for h in headers if h is not None),
                receipts=tuple(tuple(r.encode() for r in block) for block in receipts),
                logs=tuple(
                    tuple(
                        (log.address, tuple(log.topics), log.data) for r in block for log in r.logs
                    )
                    for block in receipts
                ),
                senders=tuple(senders),
                calls=calls,
            )
        finally:
            store.close()


def _decode(raw: bytes, vm_class: type[OpenLedgerVM], *, fast: bool):  # type: ignore[no-untyped-def]
    if fast:
        return decode_transaction(raw, vm_class)
    transaction = vm_class.get_transaction_builder().decode(raw)
    transaction.check_signature_validity()
    transaction.validate()
    return transaction


def _decoded_block(header, store: ChainStore, vm_class: type[OpenLedgerVM]):  # type: ignore[no-untyped-def]
    fresh = ChainStore(store.db, vm_class, CHAIN_ID)
    return fresh.get_transactions(header)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(BLOCKS)
def test_fast_paths_give_the_same_chain_as_plain_py_evm(blocks: list[list[Op]]) -> None:
    signed = sign_blocks(blocks)
    with keccak_backend("pycryptodome"):
        plain = run(signed, fast=False)
    with keccak_backend("pysha3"):
        fast = run(signed, fast=True)
    assert fast == plain
    assert len(plain.headers) == len(blocks)


def test_the_node_hashes_with_pysha3_unless_told_otherwise() -> None:
    from eth_hash.auto import keccak
    from eth_hash.backends import pysha3

    use_fastest_backend()
    assert keccak.hasher == pysha3.backend.keccak256
    assert keccak(b"") == bytes.fromhex(
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
