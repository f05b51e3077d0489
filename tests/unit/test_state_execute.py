"""Block building and import, calls, gas estimation and revert reasons, on real py-evm."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from unit_helpers import (
    BALANCE_READER,
    CHAIN_ID,
    FORWARDER,
    FUNDED,
    KEYS,
    LOOPER,
    PROPOSER,
    RECIPIENT,
    REFUNDER,
    RETURNER,
    REVERTER,
    SLOT_READER,
    SLOT_SETTER,
    VM_CLASS,
    LocalChain,
    decode,
    make_genesis,
    sign,
)

from openledger.genesis.model import ETHER, GWEI
from openledger.genesis.types import Address, Gas, Wei
from openledger.state.calls import (
    CallRequest,
    decode_revert_reason,
    describe_revert,
    estimate_gas,
    run_call,
)
from openledger.state.errors import InvalidBlock, InvalidTransaction
from openledger.state.execute import AccountOverride, compute_next_base_fee, import_block
from openledger.state.fork import BlockInputs
from openledger.state.transactions import check_transaction

CAP = Gas(30_000_000)
SENDER = FUNDED[0]
EMPTY = Address(b"\x00" * 19 + b"\x77")


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalChain]:
    chain = LocalChain.open(tmp_path / "chain")
    try:
        yield chain
    finally:
        chain.store.close()


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def error_data(message: str) -> bytes:
    return bytes.fromhex("08c379a0") + abi_encode(["string"], [message])


def panic_data(code: int) -> bytes:
    return bytes.fromhex("4e487b71") + abi_encode(["uint256"], [code])


# --- BlockBuilder --------------------------------------------------------------------------------


def test_a_built_block_moves_value_and_pays_the_proposer(local: LocalChain) -> None:
    builder = local.builder()
    base_fee = builder.header.base_fee_per_gas
    receipt = builder.add_transaction(decode(sign(0, 0, value=ETHER, tip=GWEI, fee_cap=3 * GWEI)))
    local.store.commit(builder.finish(), None)

    assert receipt.gas_used == 21_000
    assert local.balance(RECIPIENT) == ETHER
    assert local.balance(SENDER) == 10_000 * ETHER - ETHER - 21_000 * (base_fee + GWEI)
    assert local.balance(PROPOSER) == 21_000 * GWEI


def test_a_transaction_with_a_wrong_nonce_is_refused_and_leaves_the_block_unchanged(
    local: LocalChain,
) -> None:
    builder = local.builder()
    before = builder.header

    with pytest.raises(InvalidTransaction) as raised:
        builder.add_transaction(decode(sign(0, 1, value=1)))

    assert raised.value.reason == "invalid transaction"
    assert "nonce" in str(raised.value).lower()
    assert (builder.header, builder.transaction_count) == (before, 0)
    builder.add_transaction(decode(sign(0, 0, value=1)))
    assert builder.finish().block.header == local.execute([sign(0, 0, value=1)]).block.header


@pytest.mark.parametrize(
    "raw",
    [
        sign(0, 0, value=20_000 * ETHER),
        sign(5, 0, value=1),  # account 5 is not funded
        sign(0, 0, fee_cap=GWEI // 2, tip=1),  # below the base fee
    ],
    ids=["value above balance", "unfunded sender", "fee cap below base fee"],
)
def test_a_transaction_that_cannot_pay_is_refused(local: LocalChain, raw: bytes) -> None:
    builder = local.builder()

    with pytest.raises(InvalidTransaction):
        builder.add_transaction(decode(raw))

    assert builder.transaction_count == 0
    assert builder.header.gas_used == 0


def test_a_transaction_below_the_calldata_floor_is_refused(local: LocalChain) -> None:
    builder = local.builder()

    with pytest.raises(InvalidTransaction) as raised:
        # Pays the intrinsic 22600 gas of 100 non-zero bytes, not the 25000 floor.
        builder.add_transaction(decode(sign(0, 0, data=b"\x01" * 100, gas=22_600)))

    assert str(raised.value) == "intrinsic gas too low: have 22600, want 25000"
    assert (builder.transaction_count, builder.header.gas_used) == (0, 0)


def test_import_refuses_a_block_with_a_transaction_below_the_calldata_floor(
    local: LocalChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = local.store.head
    with monkeypatch.context() as patch:
        # A proposer that skips the floor check.
        patch.setattr("openledger.state.execute.compute_floor_gas", lambda data: 0)
        executed = local.execute([sign(0, 0, data=b"\x01" * 100, gas=22_600)])

    with pytest.raises(
        InvalidBlock, match="transaction 0 has gas below its EIP-7623 calldata floor"
    ):
        import_block(local.chain, local.store.db, parent, executed.block, BlockInputs(PROPOSER))


def test_a_transaction_that_does_not_fit_reports_gas_limit_reached(tmp_path: Path) -> None:
    local = LocalChain.open(tmp_path / "chain", make_genesis(gas_limit=Gas(50_000)))
    try:
        builder = local.builder()
        builder.add_transaction(decode(sign(0, 0)))
        builder.add_transaction(decode(sign(0, 1)))
        assert builder.gas_remaining == 8_000

        with pytest.raises(InvalidTransaction) as raised:
            builder.add_transaction(decode(sign(0, 2)))

        assert raised.value.reason == "gas limit reached"
        assert "needs 21000, block has 8000" in str(raised.value)
        assert builder.transaction_count == 2
    finally:
        local.store.close()


def test_a_finished_block_passes_header_validation_and_reimports(local: LocalChain) -> None:
    parent = local.store.head
    executed = local.execute([sign(0, 0, value=1), sign(1, 0, to=SLOT_SETTER, gas=100_000)])
    header = executed.block.header

    VM_CLASS.validate_header(header, parent)
    assert header.parent_hash == parent.hash
    assert header.block_number == 1
    assert header.timestamp == parent.timestamp + 1
    assert header.gas_limit == parent.gas_limit
    assert header.base_fee_per_gas == compute_next_base_fee(parent)
    assert header.gas_used == executed.receipts[-1].gas_used  # receipts count cumulative gas

    imported = import_block(
        local.chain, local.store.db, parent, executed.block, BlockInputs(PROPOSER)
    )

    assert imported.block.header == header
    assert [r.encode() for r in imported.receipts] == [r.encode() for r in executed.receipts]
    assert imported.changes == executed.changes


def test_an_imported_block_can_be_committed(local: LocalChain, tmp_path: Path) -> None:
    executed = local.execute([sign(0, 0, value=7)])
    follower = LocalChain.open(tmp_path / "follower")
    try:
        imported = import_block(
            follower.chain,
            follower.store.db,
            follower.store.head,
            executed.block,
            BlockInputs(PROPOSER),
        )
        follower.store.commit(imported, b"cert")

        assert follower.store.head.hash == executed.block.hash
        assert follower.balance(RECIPIENT) == 7
    finally:
        follower.store.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("state_root", b"\x11" * 32),
        ("gas_used", 21_001),
        ("receipt_root", b"\x22" * 32),
        ("bloom", 1),
    ],
    ids=["state_root", "gas_used", "receipt_root", "bloom"],
)
def test_import_refuses_a_tampered_block_naming_what_differs(
    local: LocalChain, field: str, value: object
) -> None:
    parent = local.store.head
    executed = local.execute([sign(0, 0, value=1)])
    tampered = executed.block.copy(header=executed.block.header.copy(**{field: value}))

    with pytest.raises(InvalidBlock, match=f"{field} differs"):
        import_block(local.chain, local.store.db, parent, tampered, BlockInputs(PROPOSER))


def test_import_refuses_a_block_with_a_changed_transaction_list(local: LocalChain) -> None:
    parent = local.store.head
    executed = local.execute([sign(0, 0, value=1)])
    dropped = executed.block.copy(transactions=())

    with pytest.raises(InvalidBlock):
        import_block(local.chain, local.store.db, parent, dropped, BlockInputs(PROPOSER))


def test_import_refuses_a_block_that_does_not_extend_the_parent(local: LocalChain) -> None:
    genesis = local.store.head
    first = local.add_block([sign(0, 0, value=1)])
    second = local.execute([sign(0, 1, value=1)])

    with pytest.raises(InvalidBlock, match="does not extend"):
        import_block(local.chain, local.store.db, genesis, second.block, BlockInputs(PROPOSER))
    assert first.block.header == local.store.head


def test_building_writes_nothing_to_the_database(local: LocalChain) -> None:
    before = list(local.store.db.iterate(b"", b"\xff" * 33))

    local.execute([sign(0, 0, value=1)])

    assert list(local.store.db.iterate(b"", b"\xff" * 33)) == before


# --- run_call ------------------------------------------------------------------------------------


def call(local: LocalChain, to: Address | None, data: bytes = b"", **fields: object):  # type: ignore[no-untyped-def]
    overrides = fields.pop("overrides", ())
    request = CallRequest(sender=SENDER, to=to, data=data, **fields)  # type: ignore[arg-type]
    return run_call(local.chain, local.store.db, local.store.head, request, CAP, overrides)  # type: ignore[arg-type]


def test_a_call_returns_the_output(local: LocalChain) -> None:
    result = call(local, RETURNER)

    assert (result.success, result.output, result.reverted) == (True, word(42), False)


def test_a_call_to_an_account_without_code_succeeds_with_no_output(local: LocalChain) -> None:
    result = call(local, RECIPIENT, value=Wei(5))

    assert (result.success, result.output, result.gas_used) == (True, b"", 21_000)


@pytest.mark.parametrize(
    ("data", "described"),
    [
        (error_data("not enough tokens"), "execution reverted: not enough tokens"),
        (panic_data(0x11), "execution reverted: panic: arithmetic underflow or overflow (0x11)"),
        (panic_data(0x01), "execution reverted: panic: assertion failed (0x01)"),
        (panic_data(0x99), "execution reverted: panic: unknown panic (0x99)"),
        (b"\xde\xad\xbe\xef", "execution reverted"),
        (b"", "execution reverted"),
        (bytes.fromhex("08c379a0") + b"\x00" * 5, "execution reverted"),  # truncated Error(string)
    ],
    ids=[
        "Error(string)",
        "Panic(0x11)",
        "Panic(0x01)",
        "unknown panic",
        "custom data",
        "empty",
        "truncated",
    ],
)
def test_a_revert_returns_its_data_and_is_described(
    local: LocalChain, data: bytes, described: str
) -> None:
    result = call(local, REVERTER, data)

    assert (result.success, result.reverted, result.output) == (False, True, data)
    assert result.error == "execution reverted"
    assert describe_revert(result.output) == described


def test_decode_revert_reason() -> None:
    assert decode_revert_reason(error_data("x")) == "x"
    assert decode_revert_reason(b"\x01\x02") is None


def test_a_call_that_runs_out_of_gas_says_so(local: LocalChain) -> None:
    result = call(local, LOOPER, gas=Gas(100_000))

    assert (result.success, result.reverted, result.error) == (False, False, "out of gas")
    assert result.gas_used == 100_000


def test_a_call_with_gas_below_the_intrinsic_gas_fails(local: LocalChain) -> None:
    result = call(local, RECIPIENT, gas=Gas(20_999))

    assert not result.success
    assert result.error.startswith("intrinsic gas too low")


def test_the_gas_cap_bounds_a_call(local: LocalChain) -> None:
    request = CallRequest(sender=SENDER, to=LOOPER, gas=Gas(10_000_000))

    result = run_call(local.chain, local.store.db, local.store.head, request, Gas(50_000))

    assert (result.error, result.gas_used) == ("out of gas", 50_000)


def test_a_call_with_a_fee_from_a_sender_that_cannot_pay_is_refused(local: LocalChain) -> None:
    request = CallRequest(sender=EMPTY, to=RETURNER, max_fee_per_gas=Wei(2 * GWEI), gas=Gas(50_000))

    with pytest.raises(InvalidTransaction, match="insufficient funds"):
        run_call(local.chain, local.store.db, local.store.head, request, CAP)


def test_a_call_creating_a_contract_returns_its_runtime_code(local: LocalChain) -> None:
    # Init code: return the 10 bytes of RETURN_42 stored after it.
    runtime = bytes.fromhex("602a60005260206000f3")
    init = bytes.fromhex("600a600c600039600a6000f3") + runtime

    result = call(local, None, init)

    assert (result.success, result.output) == (True, runtime)


def test_calls_change_nothing_in_the_database(local: LocalChain) -> None:
    before = list(local.store.db.iterate(b"", b"\xff" * 33))

    call(local, SLOT_SETTER)
    call(local, RECIPIENT, value=Wei(ETHER))

    assert list(local.store.db.iterate(b"", b"\xff" * 33)) == before
    assert local.balance(RECIPIENT) == 0


# --- state overrides -----------------------------------------------------------------------------


def test_a_balance_override_is_seen_by_the_call(local: LocalChain) -> None:
    overrides = ((SENDER, AccountOverride(balance=Wei(123))),)

    assert call(local, BALANCE_READER, overrides=overrides).output == word(123)
    assert call(local, BALANCE_READER).output == word(10_000 * ETHER)


def test_a_balance_override_lets_a_poor_sender_send_value(local: LocalChain) -> None:
    overrides = ((SENDER, AccountOverride(balance=Wei(10**30))),)

    assert call(local, RECIPIENT, value=Wei(10**29), overrides=overrides).success


def test_a_code_override_replaces_the_code(local: LocalChain) -> None:
    overrides = ((RECIPIENT, AccountOverride(code=bytes.fromhex("602a60005260206000f3"))),)

    assert call(local, RECIPIENT, overrides=overrides).output == word(42)
    assert call(local, RECIPIENT).output == b""


@pytest.mark.parametrize(
    ("override", "slot_0", "slot_1"),
    [
        (AccountOverride(), 7, 9),
        (AccountOverride(storage_diff=((0, 5),)), 5, 9),
        (AccountOverride(storage_diff=((1, 0),)), 7, 0),
        (AccountOverride(storage=((0, 5),)), 5, 0),
        (AccountOverride(storage=()), 0, 0),
    ],
    ids=[
        "none",
        "stateDiff sets one slot",
        "stateDiff clears one slot",
        "state replaces all",
        "state empties",
    ],
)
def test_storage_overrides(
    local: LocalChain, override: AccountOverride, slot_0: int, slot_1: int
) -> None:
    overrides = ((SLOT_READER, override),)

    read = [call(local, SLOT_READER, word(slot), overrides=overrides).output for slot in (0, 1)]

    assert read == [word(slot_0), word(slot_1)]


# --- estimate_gas --------------------------------------------------------------------------------


def estimate(local: LocalChain, request: CallRequest, overrides=()) -> int:  # type: ignore[no-untyped-def]
    gas, top = estimate_gas(local.chain, local.store.db, local.store.head, request, CAP, overrides)
    assert top.success, top
    return int(gas)


def succeeds_with(local: LocalChain, request: CallRequest, gas: int, overrides=()) -> bool:  # type: ignore[no-untyped-def]
    result = run_call(
        local.chain,
        local.store.db,
        local.store.head,
        replace(request, gas=Gas(gas)),
        CAP,
        overrides,
    )
    return result.success


@pytest.mark.parametrize(
    ("to", "data", "expected"),
    [
        (RECIPIENT, b"", 21_000),
        (RECIPIENT, b"\x01" * 100, 25_000),  # EIP-7623: 21000 + 10 x 400 tokens, not 22600
        (REFUNDER, b"", None),  # clears a slot: needs more gas than it finally uses
        (FORWARDER, b"", None),  # forwards 63/64 of its gas to a callee that needs 44k
        (SLOT_SETTER, b"", None),
    ],
    ids=["transfer", "calldata floor", "refund", "63/64 forwarding", "storage writes"],
)
def test_the_estimate_is_the_least_gas_that_succeeds(
    local: LocalChain, to: Address, data: bytes, expected: int | None
) -> None:
    request = CallRequest(sender=SENDER, to=to, data=data)

    gas = estimate(local, request)

    assert succeeds_with(local, request, gas)
    assert not succeeds_with(local, request, gas - 1)
    if expected is not None:
        assert gas == expected


def test_an_estimate_passes_the_static_checks_of_a_real_transaction(local: LocalChain) -> None:
    data = b"\x01" * 100
    gas = estimate(local, CallRequest(sender=SENDER, to=RECIPIENT, data=data))

    check_transaction(decode(sign(0, 0, data=data, gas=gas)), CHAIN_ID, CAP)


@pytest.mark.parametrize("to", [REFUNDER, FORWARDER])
def test_a_transaction_with_the_estimate_succeeds_in_a_block(
    local: LocalChain, to: Address
) -> None:
    gas = estimate(local, CallRequest(sender=SENDER, to=to))

    executed = local.add_block([sign(0, 0, to=to, gas=gas)])

    assert executed.receipts[0].state_root == b"\x01"


@pytest.mark.parametrize(
    ("to", "data"),
    [(REFUNDER, b""), (RECIPIENT, b"\x01" * 100), (SLOT_SETTER, b""), (REVERTER, b"\x01")],
    ids=["capped refund", "calldata floor", "plain", "revert"],
)
def test_call_gas_used_matches_the_receipt(local: LocalChain, to: Address, data: bytes) -> None:
    gas = 100_000
    request = CallRequest(sender=SENDER, to=to, data=data, gas=Gas(gas))
    result = run_call(local.chain, local.store.db, local.store.head, request, CAP)

    executed = local.add_block([sign(0, 0, to=to, data=data, gas=gas)])

    assert result.gas_used == executed.receipts[0].gas_used


def test_an_estimate_that_fails_at_the_cap_returns_the_failure(local: LocalChain) -> None:
    request = CallRequest(sender=SENDER, to=REVERTER, data=error_data("no"))

    gas, top = estimate_gas(local.chain, local.store.db, local.store.head, request, CAP)

    assert (gas, top.reverted, describe_revert(top.output)) == (CAP, True, "execution reverted: no")


def test_an_estimate_with_a_fee_is_bounded_by_what_the_sender_can_buy(local: LocalChain) -> None:
    overrides = ((KEYS[5].address, AccountOverride(balance=Wei(30_000 * GWEI))),)
    request = CallRequest(sender=KEYS[5].address, to=LOOPER, max_fee_per_gas=Wei(GWEI))

    gas, top = estimate_gas(local.chain, local.store.db, local.store.head, request, CAP, overrides)

    assert (gas, top.error) == (30_000, "out of gas")


def test_an_estimate_with_a_fee_refuses_a_sender_that_cannot_pay_the_intrinsic_gas(
    local: LocalChain,
) -> None:
    request = CallRequest(sender=EMPTY, to=RECIPIENT, max_fee_per_gas=Wei(GWEI))

    with pytest.raises(InvalidTransaction, match="insufficient funds"):
        estimate_gas(local.chain, local.store.db, local.store.head, request, CAP)


def test_an_estimate_sees_the_overrides(local: LocalChain) -> None:
    # With slot 0 already clear, the refunder's SSTORE is a cheap no-op.
    overrides = ((REFUNDER, AccountOverride(storage=())),)
    request = CallRequest(sender=SENDER, to=REFUNDER)

    with_override = estimate(local, request, overrides)

    assert with_override < estimate(local, request)
    assert succeeds_with(local, request, with_override, overrides)
    assert not succeeds_with(local, request, with_override - 1, overrides)
