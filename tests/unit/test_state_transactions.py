"""Decoding raw transactions and the static checks: each refusal carries its stable reason."""

import contextlib

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import CHAIN_ID, KEYS, RECIPIENT, VM_CLASS, decode, sign, tx

from openledger.genesis.model import GWEI
from openledger.genesis.types import ChainId, Gas
from openledger.state.errors import InvalidTransaction
from openledger.state.transactions import (
    MAX_INITCODE_SIZE,
    MAX_TRANSACTION_SIZE,
    check_transaction,
    compute_effective_tip,
    compute_floor_gas,
    compute_upfront_cost,
    decode_transaction,
)

GAS_LIMIT = Gas(30_000_000)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

LEGACY_155 = sign(tx_type=0)
LEGACY_UNPROTECTED = sign(tx_type=0, chain_id=None)
TYPE_1 = sign(tx_type=1, gas=30_000, access_list=(("0x" + "11" * 20, ("0x" + "00" * 32,)),))
TYPE_2 = sign(data=b"\x01\x02", gas=30_000)


def check(raw: bytes, **options: bool) -> None:
    check_transaction(decode(raw), CHAIN_ID, GAS_LIMIT, **options)


def reason_of(action: object) -> str:
    with pytest.raises(InvalidTransaction) as raised:
        action()  # type: ignore[operator]
    return raised.value.reason


# --- valid transactions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "type_id", "chain_id"),
    [(LEGACY_155, None, CHAIN_ID), (TYPE_1, 1, CHAIN_ID), (TYPE_2, 2, CHAIN_ID)],
    ids=["legacy EIP-155", "type 1", "type 2"],
)
def test_valid_transactions_decode_and_pass(raw: bytes, type_id: int | None, chain_id: int) -> None:
    transaction = decode(raw)

    check_transaction(transaction, CHAIN_ID, GAS_LIMIT)

    assert transaction.sender == KEYS[0].address
    assert transaction.to == RECIPIENT
    assert transaction.chain_id == chain_id
    assert getattr(transaction, "type_id", None) == type_id
    assert transaction.encode() == raw


def test_an_unprotected_legacy_transaction_passes_only_when_allowed() -> None:
    reason = reason_of(lambda: check(LEGACY_UNPROTECTED))

    assert reason == "only replay-protected (EIP-155) transactions allowed over RPC"
    check(LEGACY_UNPROTECTED, allow_unprotected=True)


# --- decoding refusals ---------------------------------------------------------------------------


def _with_field(raw: bytes, index: int, value: bytes) -> bytes:
    """A legacy transaction with one RLP field replaced (the signature is not redone)."""
    fields = list(rlp.decode(raw))
    fields[index] = value
    return rlp.encode(fields)


# About half of all x coordinates are not on the curve; 5 is the smallest such r.
UNRECOVERABLE_R = b"\x05"

DECODE_REFUSALS = [
    ("oversized", b"\x02" + b"\x00" * MAX_TRANSACTION_SIZE, "oversized data"),
    ("empty", b"", "invalid RLP"),
    ("unknown type 5", b"\x05" + TYPE_2[1:], "transaction type not supported"),
    ("envelope of type 0", b"\x00" + TYPE_2[1:], "transaction type not supported"),
    ("type 0x7f", b"\x7f" + TYPE_2[1:], "transaction type not supported"),
    ("blob type 3", b"\x03" + TYPE_2[1:], "transaction type not supported"),
    ("not RLP", b"\xf8\xff", "invalid RLP"),
    ("RLP string", rlp.encode(b"hello"), "invalid RLP"),
    ("wrong field count", rlp.encode([b"", b""]), "invalid RLP"),
    ("typed, wrong field count", b"\x02" + rlp.encode([]), "invalid RLP"),
    ("trailing byte", LEGACY_155 + b"\x00", "invalid RLP"),
    ("typed, trailing byte", TYPE_2 + b"\x00", "invalid RLP"),
    ("leading zero in nonce", _with_field(LEGACY_155, 0, b"\x00"), "invalid RLP"),
    ("long length for a short list", b"\xf9\x00" + LEGACY_155[1:], "invalid RLP"),
    ("typed, wrapped in an RLP string", rlp.encode(TYPE_2), "invalid RLP"),
    ("access list key that is a list", b"\x01" + rlp.encode([*rlp.decode(TYPE_1[1:])[:7], [[b"\x11" * 20, [[b"\x00"] * 32]]], *rlp.decode(TYPE_1[1:])[8:]]), "invalid RLP"),
    ("r that recovers no key", _with_field(LEGACY_155, 7, UNRECOVERABLE_R), "invalid sender"),
    ("r = 0", _with_field(LEGACY_155, 7, b""), "invalid sender"),
    ("typed, y parity 5", b"\x02" + rlp.encode([*rlp.decode(TYPE_2[1:])[:9], b"\x05", *rlp.decode(TYPE_2[1:])[10:]]), "invalid sender"),
    ("s above n/2", _with_field(LEGACY_155, 8, (SECP256K1_N - int.from_bytes(rlp.decode(LEGACY_155)[8], "big")).to_bytes(32, "big")), "invalid sender"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "reason"), [(raw, reason) for _, raw, reason in DECODE_REFUSALS],
    ids=[name for name, _, _ in DECODE_REFUSALS],
)  # fmt: skip
def test_undecodable_transactions_are_refused_with_their_reason(raw: bytes, reason: str) -> None:
    assert reason_of(lambda: decode_transaction(raw, VM_CLASS)) == reason


def test_a_blob_transaction_is_refused_as_such() -> None:
    with pytest.raises(InvalidTransaction, match="blob transactions"):
        decode_transaction(b"\x03" + TYPE_2[1:], VM_CLASS)


def test_a_transaction_of_exactly_the_size_limit_is_not_oversized() -> None:
    raw = b"\x02" + b"\x00" * (MAX_TRANSACTION_SIZE - 1)

    assert reason_of(lambda: decode_transaction(raw, VM_CLASS)) == "invalid RLP"


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, len(TYPE_1) - 1), byte=st.integers(0, 255), cut=st.booleans())
def test_a_corrupted_transaction_decodes_or_is_refused_never_crashes(
    position: int, byte: int, cut: bool
) -> None:
    raw = bytearray(TYPE_1)
    if cut:
        del raw[position]
    else:
        raw[position] = byte
    with contextlib.suppress(InvalidTransaction):
        decode_transaction(bytes(raw), VM_CLASS)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_are_refused_never_crash(raw: bytes) -> None:
    with pytest.raises(InvalidTransaction):
        decode_transaction(raw, VM_CLASS)


# --- static rules --------------------------------------------------------------------------------

HUNDRED_BYTES = b"\x01" * 100  # intrinsic 21000 + 1600 = 22600, EIP-7623 floor 21000 + 4000 = 25000

CHECK_REFUSALS = [
    ("wrong chain id", sign(chain_id=1), "invalid chain id"),
    ("legacy, wrong chain id", sign(tx_type=0, chain_id=5), "invalid chain id"),
    ("unprotected legacy", LEGACY_UNPROTECTED, "only replay-protected (EIP-155) transactions allowed over RPC"),
    ("gas above the block limit", sign(gas=GAS_LIMIT + 1), "exceeds block gas limit"),
    ("gas below 21000", sign(gas=20_999), "intrinsic gas too low"),
    ("legacy, gas below 21000", sign(tx_type=0, gas=20_999), "intrinsic gas too low"),
    ("type 1, gas below 21000", sign(tx_type=1, gas=20_999), "intrinsic gas too low"),
    ("legacy, gas below the EIP-7623 floor", sign(tx_type=0, data=HUNDRED_BYTES, gas=24_999), "intrinsic gas too low"),
    ("gas below the calldata cost", sign(data=HUNDRED_BYTES, gas=22_599), "intrinsic gas too low"),
    ("gas below the EIP-7623 floor", sign(data=HUNDRED_BYTES, gas=24_999), "intrinsic gas too low"),
    ("creation without the creation cost", sign(to=None, data=b"\x00", gas=53_000), "intrinsic gas too low"),
    ("access list not paid for", sign(tx_type=1, gas=21_000, access_list=(("0x" + "11" * 20, ()),)), "intrinsic gas too low"),
    ("tip above fee cap", sign(tip=2 * GWEI + 1, fee_cap=2 * GWEI), "max priority fee per gas higher than max fee per gas"),
    ("initcode too large", sign(to=None, data=b"\x00" * (MAX_INITCODE_SIZE + 1), gas=10_000_000), "max initcode size exceeded"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "reason"), [(raw, reason) for _, raw, reason in CHECK_REFUSALS],
    ids=[name for name, _, _ in CHECK_REFUSALS],
)  # fmt: skip
def test_statically_invalid_transactions_are_refused_with_their_reason(
    raw: bytes, reason: str
) -> None:
    assert reason_of(lambda: check(raw)) == reason


@pytest.mark.parametrize(
    "raw",
    [
        sign(gas=GAS_LIMIT),
        sign(gas=21_000),
        sign(data=HUNDRED_BYTES, gas=25_000),
        sign(data=b"\x00" * 100, gas=21_000 + 400 + 600),  # zero bytes: 4 gas, floor 10 gas each
        sign(to=None, data=b"\x00", gas=53_000 + 4 + 2),  # create + one zero byte + one word
        sign(tip=2 * GWEI, fee_cap=2 * GWEI),
        sign(to=None, data=b"\x00" * MAX_INITCODE_SIZE, gas=10_000_000),
        sign(tx_type=1, gas=21_000 + 2400, access_list=(("0x" + "11" * 20, ()),)),
    ],
    ids=[
        "gas at the block limit", "plain transfer", "gas at the floor", "zero-byte floor",
        "creation at its intrinsic gas", "tip equal to fee cap", "initcode at the limit",
        "access list paid for",
    ],
)  # fmt: skip
def test_boundary_transactions_pass(raw: bytes) -> None:
    check(raw)


def test_the_error_message_carries_the_numbers() -> None:
    with pytest.raises(InvalidTransaction) as raised:
        check(sign(data=HUNDRED_BYTES, gas=24_999))

    assert str(raised.value) == "intrinsic gas too low: have 24999, want 25000"


def test_a_chain_id_check_uses_the_chain_given() -> None:
    transaction = decode(sign(chain_id=99))

    check_transaction(transaction, ChainId(99), GAS_LIMIT)


# --- fee arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "floor"),
    [(b"", 21_000), (b"\x00", 21_010), (b"\x01", 21_040), (b"\x00\x01\x02", 21_090)],
)
def test_compute_floor_gas(data: bytes, floor: int) -> None:
    assert compute_floor_gas(data) == floor


@pytest.mark.parametrize(
    ("tip", "fee_cap", "base_fee", "effective"),
    [
        (1 * GWEI, 3 * GWEI, 1 * GWEI, 1 * GWEI),  # the tip, in full
        (2 * GWEI, 3 * GWEI, 2 * GWEI, 1 * GWEI),  # capped by fee cap - base fee
        (1 * GWEI, 1 * GWEI, 2 * GWEI, -1 * GWEI),  # below the base fee: negative
    ],
)
def test_compute_effective_tip(tip: int, fee_cap: int, base_fee: int, effective: int) -> None:
    assert compute_effective_tip(tx(tip=tip, fee_cap=fee_cap), base_fee) == effective


def test_compute_upfront_cost_is_gas_at_the_fee_cap_plus_value() -> None:
    transaction = tx(gas=30_000, fee_cap=3 * GWEI, value=5)

    assert compute_upfront_cost(transaction) == 30_000 * 3 * GWEI + 5
    assert compute_effective_tip(tx(tx_type=0, gas_price=7), 2) == 5
