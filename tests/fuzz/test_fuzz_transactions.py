"""Raw transaction fuzzer: signed transactions of every type with random fields, then mutated
(bytes flipped, cut, appended, the type byte changed, one RLP field replaced or removed), given to
a real dev node's admission path (`NodeChain.submit_transaction`: decode, static checks, pool).

Each input is either refused with InvalidTransaction (and the pool is unchanged) or admitted; an
admitted transaction must pass an independent check (eth-account recovers the same sender, the
chain id is ours, the encoding is canonical, the sender can pay for it and its nonce is not
used). No other exception may escape.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_hash.auto import keccak
from helpers import DEV_KEYS, ThreadedNode
from hypothesis import assume, example, given
from hypothesis import strategies as st

from fuzz.conftest import FUZZ, counted
from openledger.state.errors import InvalidTransaction

CHAIN_ID = 1337
FIELDS = {
    "nonce": st.integers(0, 3) | st.integers(0, 2**64 + 1),
    "gas": st.sampled_from([21_000, 53_000, 100_000, 30_000_000]) | st.integers(0, 2**64 + 1),
    "value": st.integers(0, 10**18) | st.integers(0, 2**256 - 1),
    "to": st.none() | st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    | st.sampled_from(["0x" + "00" * 18 + "0a01", "0x" + "00" * 18 + "0800"]),
    "data": st.binary(max_size=200),
    "chainId": st.just(CHAIN_ID) | st.integers(0, 2**64),
}  # fmt: skip
FEES = st.integers(0, 10**12) | st.integers(0, 2**256 - 1)
SANE = {
    "nonce": st.integers(0, 60), "gas": st.integers(53_000, 300_000), "value": st.integers(0, 10**18),
    "to": FIELDS["to"], "data": st.binary(max_size=64), "chainId": st.just(CHAIN_ID),
}  # fmt: skip
SANE_FEES = st.integers(10**9, 200 * 10**9)
ACCESS_LIST = st.lists(
    st.fixed_dictionaries({
        "address": st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()),
        "storageKeys": st.lists(st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()), max_size=2),
    }),
    max_size=2,
)  # fmt: skip


@st.composite
def signed_transactions(draw: st.DrawFn) -> bytes:
    """A transaction of type 0, 1 or 2 signed by a dev key (sometimes an unfunded key)."""
    kind = draw(st.sampled_from([0, 1, 2]))
    sane = draw(st.booleans())  # half of them close to what a wallet sends
    fields: dict[str, Any] = {
        name: draw(SANE[name] if sane else strategy) for name, strategy in FIELDS.items()
    }
    fees = SANE_FEES if sane else FEES
    if fields["to"] is None:
        del fields["to"]
    if kind == 2:
        fields.update(type=2, maxFeePerGas=draw(fees), maxPriorityFeePerGas=draw(fees) // 10)
        fields["accessList"] = draw(ACCESS_LIST)
    else:
        fields["gasPrice"] = draw(fees)
        if kind == 1:
            fields.update(type=1, accessList=draw(ACCESS_LIST))
    key = draw(
        st.sampled_from(DEV_KEYS[:2])
        if sane
        else st.sampled_from(DEV_KEYS[:2])
        | st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
    )
    try:
        return bytes(Account.sign_transaction(fields, key).raw_transaction)
    except Exception:  # eth-account refuses some field values itself; those are not inputs
        assume(False)
        raise


def _mutate_field(raw: bytes, index: int, replacement: Any) -> bytes:
    typed = raw[0] <= 0x7F
    items = rlp.decode(raw[1:] if typed else raw)
    if not isinstance(items, list) or not items:
        return raw
    index %= len(items) + 1
    if index == len(items):
        items.append(replacement)
    elif replacement is None:
        del items[index]
    else:
        items[index] = replacement
    encoded = rlp.encode(items)
    return raw[:1] + encoded if typed else encoded


RLP_ITEM = (
    st.none()
    | st.binary(max_size=40)
    | st.lists(st.binary(max_size=33), max_size=3)
    | st.just([[b"\x01" * 20, [b"\x02" * 32]]])
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = draw(signed_transactions())
    how = draw(
        st.sampled_from(["none", "none", "flip", "cut", "append", "type", "field", "splice"])
    )
    if how == "flip":
        position = draw(st.integers(0, len(raw) - 1))
        raw = (
            raw[:position]
            + bytes([raw[position] ^ draw(st.integers(1, 255))])
            + raw[position + 1 :]
        )
    elif how == "cut":
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    elif how == "append":
        raw = raw + draw(st.binary(min_size=1, max_size=40))
    elif how == "type":
        kind = bytes([draw(st.integers(0, 0x7F))])
        raw = kind + (raw[1:] if raw[0] <= 0x7F else raw)
    elif how == "field":
        raw = _mutate_field(raw, draw(st.integers(0, 20)), draw(RLP_ITEM))
    elif how == "splice":
        raw = draw(st.binary(max_size=8)) + raw[draw(st.integers(0, len(raw))) :]
    return raw


@pytest.fixture(scope="module")
def pool_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedNode]:
    # No automine: admitted transactions stay in the pool, where the test can look at them.
    node = ThreadedNode(Path(tmp_path_factory.mktemp("fuzz-tx")) / "node", block_time=3600).start()
    try:
        yield node
    finally:
        node.stop()


def _submit(node: ThreadedNode, raw: bytes) -> Any:
    """Admit `raw` on the node's own loop; returns the hash or the InvalidTransaction."""
    assert node.node is not None
    chain = node.node.node_chain

    async def submit() -> Any:
        size = len(chain.mempool)
        try:
            return chain.submit_transaction(raw)
        except InvalidTransaction as refused:
            assert len(chain.mempool) == size, "a refused transaction changed the pool"
            return refused

    return node.call(submit)


def _check_admitted(node: ThreadedNode, raw: bytes, tx_hash: bytes) -> None:
    assert node.node is not None
    assert tx_hash == keccak(raw)
    sender = Account.recover_transaction(raw)
    transaction = node.node.node_chain.decode(raw)
    assert "0x" + transaction.sender.hex() == sender.lower()
    assert transaction.chain_id == CHAIN_ID and transaction.encode() == raw
    state = node.node.store.state_at(node.node.store.head)
    cost = transaction.gas * transaction.max_fee_per_gas + transaction.value
    assert state.get_balance(transaction.sender) >= cost, "admitted a transaction it cannot pay"
    assert transaction.nonce >= state.get_nonce(transaction.sender), "admitted a used nonce"


@FUZZ
@given(raw=mutated() | st.binary(max_size=300))
@example(raw=b"")
@example(raw=b"\x03" + b"\xc0")
@example(raw=b"\x02\xc0")
@example(raw=b"\xf8")
def test_raw_transactions_are_refused_cleanly_or_admitted_valid(
    pool_node: ThreadedNode, raw: bytes
) -> None:
    with counted("raw transactions") as counts:
        outcome = _submit(pool_node, raw)
        if not isinstance(outcome, InvalidTransaction):
            _check_admitted(pool_node, raw, outcome)
            counts.accepted += 1
