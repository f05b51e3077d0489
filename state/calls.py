"""Calls without a transaction: `run_call` and `estimate_gas` answer `eth_call` and
`eth_estimateGas` on a throwaway overlay of a block's state, so nothing they do reaches the
database; `decode_revert_reason` reads a revert's `Error(string)` or `Panic(uint256)`.
"""

from dataclasses import dataclass
from typing import cast

from eth.abc import BlockHeaderAPI, ComputationAPI, SignedTransactionAPI
from eth.db.chain import ChainDB
from eth.exceptions import Revert
from eth.vm.chain_context import ChainContext
from eth.vm.spoof import SpoofTransaction
from eth_abi import decode as abi_decode
from eth_utils import ValidationError

from openledger.genesis.types import Address, Gas, Wei
from openledger.state.db import LevelDB, Overlay
from openledger.state.errors import (
    InsufficientFunds,
)
from openledger.state.execute import Chain, StateOverrides, apply_overrides
from openledger.state.precompile import ERROR_SELECTOR
from openledger.state.transactions import compute_floor_gas

PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)


@dataclass(frozen=True, slots=True)
class CallRequest:
    """A message to execute without a signature (`eth_call`, `eth_estimateGas`)."""

    sender: Address
    """`from`; the zero address when absent."""
    to: Address | None
    """Recipient; None creates a contract."""
    data: bytes = b""
    """Calldata, or init code for a creation."""
    value: Wei = Wei(0)
    """Value sent."""
    gas: Gas | None = None
    """Gas limit; None means the cap."""
    max_fee_per_gas: Wei | None = None
    """Fee cap (legacy `gasPrice` sets both fee fields); None executes without fees."""
    max_priority_fee_per_gas: Wei | None = None
    """Priority fee."""
    access_list: tuple[tuple[Address, tuple[int, ...]], ...] = ()
    """EIP-2930 access list."""


@dataclass(frozen=True, slots=True)
class CallResult:
    """The outcome of a call."""

    success: bool
    """True when the message finished without error."""
    output: bytes
    """Return data, or revert data when `reverted`."""
    gas_used: Gas
    """Gas the message used, after refunds."""
    reverted: bool = False
    """True when the message ended in REVERT (its output is the revert data)."""
    error: str = ""
    """For a failure, what went wrong ("out of gas", "invalid opcode", ...)."""


def run_call(
    chain: Chain,
    db: LevelDB,
    header: BlockHeaderAPI,
    request: CallRequest,
    gas_cap: Gas,
    overrides: StateOverrides = (),
) -> CallResult:
    """Execute `request` on the state after `header`, in the context of block `header`.

    Raises InvalidTransaction when the message could not even start (sender cannot pay).
    """
    state = _call_state(chain, db, header, request, overrides)
    return _apply_call(chain, state, request, Gas(min(request.gas or gas_cap, gas_cap)))


def estimate_gas(
    chain: Chain,
    db: LevelDB,
    header: BlockHeaderAPI,
    request: CallRequest,
    gas_cap: Gas,
    overrides: StateOverrides = (),
) -> tuple[Gas, CallResult]:
    """The least gas limit with which `request` succeeds, found by binary search (as geth does).

    Returns (gas, result at the cap) when it succeeds; when it fails even at the cap, returns
    (cap, the failing result) so the caller can report the revert.
    """
    state = _call_state(chain, db, header, request, overrides)
    high = Gas(min(request.gas or gas_cap, gas_cap))
    if request.max_fee_per_gas:
        # A sender can only buy as much gas as its balance allows (geth's allowance).
        balance = state.get_balance(request.sender) - request.value
        high = Gas(max(0, min(high, balance // request.max_fee_per_gas)))
        if high < _intrinsic_gas(chain, request):
            raise InsufficientFunds(
                f"balance {state.get_balance(request.sender)}, value {request.value}",
                have=state.get_balance(request.sender),
            )

    def attempt(gas: int) -> CallResult:
        snapshot = state.snapshot()
        try:
            return _apply_call(chain, state, request, Gas(gas))
        finally:
            state.revert(snapshot)

    top = attempt(high)
    if not top.success:
        return high, top
    low = _intrinsic_gas(chain, request) - 1
    # Most messages need little more than they use; try that first (geth's shortcut).
    optimistic = min(high, (top.gas_used + 2300) * 64 // 63)
    if optimistic < high and attempt(optimistic).success:
        high = Gas(optimistic)
    else:
        low = max(low, top.gas_used - 1)
    while low + 1 < high:
        middle = (low + high) // 2
        if attempt(middle).success:
            high = Gas(middle)
        else:
            low = middle
    return high, top


def describe_revert(output: bytes) -> str:
    """The message of a revert: "execution reverted", with the reason when it is decodable."""
    reason = decode_revert_reason(output)
    return f"execution reverted: {reason}" if reason else "execution reverted"


def decode_revert_reason(output: bytes) -> str | None:
    """The reason of an `Error(string)` or `Panic(uint256)` revert, else None."""
    try:
        if output[:4] == ERROR_SELECTOR:
            (reason,) = abi_decode(["string"], output[4:])
            return str(reason)
        if output[:4] == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], output[4:])
            return f"panic: {_PANIC_CODES.get(code, 'unknown panic')} (0x{code:02x})"
    except Exception:
        return None
    return None


_PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic underflow or overflow",
    0x12: "division or modulo by zero",
    0x21: "enum overflow",
    0x22: "invalid encoded storage byte array accessed",
    0x31: "out-of-bounds array access; popping on an empty array",
    0x32: "out-of-bounds access of an array or bytesN",
    0x41: "out of memory",
    0x51: "uninitialized function",
}


# --- helpers --------------------------------------------------------------------------------------


def _call_state(  # type: ignore[no-untyped-def]
    chain: Chain,
    db: LevelDB,
    header: BlockHeaderAPI,
    request: CallRequest,
    overrides: StateOverrides,
):
    # Without a fee the message runs "costless", as with geth's NoBaseFee: the base fee is
    # neither charged nor checked.
    context = header if request.max_fee_per_gas else header.copy(base_fee_per_gas=0)
    overlay = Overlay(db)
    prev_hashes = chain.vm_class.get_prev_hashes(header.parent_hash, ChainDB(overlay))
    state = chain.vm_class.build_state(
        overlay, context, ChainContext(chain.chain_id), prev_hashes or ()
    )
    chain.reads.attach(state)
    apply_overrides(state, overrides)
    state.lock_changes()
    return state


def _apply_call(chain: Chain, state, request: CallRequest, gas: Gas) -> CallResult:  # type: ignore[no-untyped-def]
    builder = chain.vm_class.get_transaction_builder()
    max_fee = request.max_fee_per_gas or 0
    tip = (
        request.max_priority_fee_per_gas
        if request.max_priority_fee_per_gas is not None
        else max_fee
    )
    unsigned = builder.new_unsigned_dynamic_fee_transaction(
        chain_id=chain.chain_id,
        nonce=state.get_nonce(request.sender),
        max_priority_fee_per_gas=min(tip, max_fee),
        max_fee_per_gas=max_fee,
        gas=gas,
        to=request.to if request.to is not None else b"",
        value=request.value,
        data=request.data,
        access_list=request.access_list,
    )
    transaction = SpoofTransaction(unsigned, from_=request.sender)
    # py-evm does not refuse a gas limit below the EIP-7623 calldata floor; the pool does.
    needed = max(transaction.intrinsic_gas, compute_floor_gas(request.data))
    if gas < needed:
        return CallResult(False, b"", gas, error=f"intrinsic gas too low: have {gas}, want "
                          f"{needed}")  # fmt: skip
    try:
        computation = state.apply_transaction(transaction)
    except ValidationError as error:
        raise InsufficientFunds(str(error)) from error
    return _call_result(cast(SignedTransactionAPI, transaction), computation)


def _call_result(transaction: SignedTransactionAPI, computation: ComputationAPI) -> CallResult:
    # As the receipt counts it: the refund capped at a fifth of the gas used (EIP-3529), then
    # raised to the calldata floor (EIP-7623).
    spent = transaction.gas - computation.get_gas_remaining()
    refund = min(computation.get_gas_refund(), spent // 5)
    gas_used = Gas(
        max(spent - refund, transaction.intrinsic_gas, compute_floor_gas(transaction.data))
    )
    if computation.is_success:
        return CallResult(True, computation.output, gas_used)
    error = computation.error
    if isinstance(error, Revert):
        return CallResult(
            False, computation.output, gas_used, reverted=True, error="execution reverted"
        )
    return CallResult(False, b"", gas_used, error=_describe_vm_error(error))


def _describe_vm_error(error: Exception) -> str:
    name = type(error).__name__
    text = str(error)
    if name == "OutOfGas":
        return "out of gas"
    if name == "InvalidInstruction":
        return f"invalid opcode: {text}" if text else "invalid opcode"
    if name == "StackDepthLimit":
        return "max call depth exceeded"
    if name == "WriteProtection":
        return "write protection"
    return f"{name}: {text}" if text else name


def _intrinsic_gas(chain: Chain, request: CallRequest) -> int:
    builder = chain.vm_class.get_transaction_builder()
    unsigned = builder.new_unsigned_dynamic_fee_transaction(
        chain_id=chain.chain_id, nonce=0, max_priority_fee_per_gas=0, max_fee_per_gas=0, gas=0,
        to=request.to if request.to is not None else b"", value=request.value, data=request.data,
        access_list=request.access_list,
    )  # fmt: skip
    return max(int(unsigned.intrinsic_gas), compute_floor_gas(request.data))
