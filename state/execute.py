"""Executing blocks and calls with py-evm.

- `BlockBuilder` fills a new block one transaction at a time and finishes it into an
  `ExecutedBlock` (block, receipts, database writes) that the store commits later.
- `import_block` re-executes a block received from a peer and checks it reproduces the header.
- `run_call` and `estimate_gas` answer `eth_call` and `eth_estimateGas` on a throwaway overlay:
  nothing they do reaches the database.

Execution never writes to the database directly; every write lands in an `Overlay`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from eth.abc import BlockAPI, BlockHeaderAPI, ComputationAPI, ReceiptAPI, SignedTransactionAPI
from eth.consensus.context import ConsensusContext
from eth.db.chain import ChainDB
from eth.exceptions import Revert
from eth.vm.chain_context import ChainContext
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.spoof import SpoofTransaction
from eth_abi import decode as abi_decode
from eth_utils import ValidationError

from openledger.genesis.types import Address, ChainId, Gas, Wei
from openledger.state.db import LevelDB, Overlay
from openledger.state.errors import InvalidBlock, InvalidTransaction
from openledger.state.fork import BlockInputs, OpenLedgerVM
from openledger.state.store import ExecutedBlock
from openledger.state.transactions import compute_floor_gas

ZERO_HASH = b"\x00" * 32
ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)


@dataclass(frozen=True, slots=True)
class Chain:
    """What execution needs to know about the chain."""

    vm_class: type[OpenLedgerVM]
    """The chain's VM class (precompiles and block hooks bound)."""
    chain_id: ChainId
    """EIP-155 chain id."""


class BlockBuilder:
    """Builds one block on top of `parent`, transaction by transaction."""

    def __init__(
        self,
        chain: Chain,
        db: LevelDB,
        parent: BlockHeaderAPI,
        *,
        coinbase: Address,
        timestamp: int,
        extra_data: bytes,
        mix_hash: bytes,
        inputs: BlockInputs,
    ) -> None:
        self._overlay = Overlay(db)
        header = chain.vm_class.create_header_from_parent(
            parent,
            coinbase=coinbase,
            timestamp=timestamp,
            gas_limit=parent.gas_limit,
            extra_data=extra_data,
            mix_hash=mix_hash,
            # There is no beacon chain: the field is the zero hash, as in the genesis header.
            parent_beacon_block_root=ZERO_HASH,
        )
        self._vm = _make_vm(chain, self._overlay, header, inputs)
        self._vm.block_preprocessing(self._vm.get_block())
        self._header = self._vm.get_header()
        self._transactions: list[SignedTransactionAPI] = []
        self._receipts: list[ReceiptAPI] = []

    @property
    def header(self) -> BlockHeaderAPI:
        """The header so far: number, base fee and the gas used by the added transactions."""
        return self._header

    @property
    def gas_remaining(self) -> Gas:
        """Gas still available in the block."""
        return Gas(self._header.gas_limit - self._header.gas_used)

    @property
    def transaction_count(self) -> int:
        """How many transactions the block holds so far."""
        return len(self._transactions)

    def add_transaction(self, transaction: SignedTransactionAPI) -> ReceiptAPI:
        """Execute `transaction` as the next in the block.

        Raises InvalidTransaction, with the state unchanged, when it cannot be included (wrong
        nonce, balance too low, not enough gas left in the block).
        """
        if transaction.gas > self.gas_remaining:
            raise InvalidTransaction(
                "gas limit reached", f"needs {transaction.gas}, block has {self.gas_remaining}"
            )
        floor = compute_floor_gas(transaction.data)
        if transaction.gas < floor:
            # EIP-7623 makes such a transaction invalid; py-evm 0.12.1b1 would run it and charge
            # the sender more than its gas limit.
            raise InvalidTransaction(
                "intrinsic gas too low", f"have {transaction.gas}, want {floor}"
            )
        try:
            receipt, _ = self._vm.apply_transaction(self._header, transaction)
        except ValidationError as error:
            # py-evm validates nonce, balance and fee cap before it changes anything.
            raise InvalidTransaction("invalid transaction", str(error)) from error
        self._header = self._vm.add_receipt_to_header(self._header, receipt)
        self._transactions.append(transaction)
        self._receipts.append(receipt)
        return receipt

    def finish(self) -> ExecutedBlock:
        """Run the end-of-block hooks, compute the roots and return the finished block."""
        vm = self._vm
        block = vm.set_block_transactions_and_withdrawals(
            vm.get_block(), self._header, self._transactions, self._receipts, withdrawals=()
        )
        block = vm.block_postprocessing(block)
        result = vm.mine_block(block)
        return ExecutedBlock(result.block, tuple(self._receipts), self._overlay.changes())


def compute_next_base_fee(parent: BlockHeaderAPI) -> Wei:
    """The base fee of the block after `parent` (EIP-1559)."""
    return Wei(calculate_expected_base_fee_per_gas(parent))


def import_block(
    chain: Chain, db: LevelDB, parent: BlockHeaderAPI, block: BlockAPI, inputs: BlockInputs
) -> ExecutedBlock:
    """Re-execute a block received from a peer; raise InvalidBlock unless it reproduces exactly."""
    if block.header.parent_hash != parent.hash:
        raise InvalidBlock(f"block {block.number} does not extend block {parent.block_number}")
    for index, transaction in enumerate(block.transactions):
        if transaction.gas < compute_floor_gas(transaction.data):  # see BlockBuilder
            raise InvalidBlock(
                f"block {block.number} is invalid: transaction {index} has gas below its "
                "EIP-7623 calldata floor"
            )
    overlay = Overlay(db)
    template = chain.vm_class.create_header_from_parent(
        parent, gas_limit=parent.gas_limit, timestamp=block.header.timestamp
    )
    vm = _make_vm(chain, overlay, template, inputs)
    try:
        result = vm.import_block(block)
    except ValidationError as error:
        raise InvalidBlock(f"block {block.number} is invalid: {error}") from error
    if result.block.header != block.header:
        raise InvalidBlock(_describe_mismatch(block.header, result.block.header))
    receipts = result.block.get_receipts(ChainDB(overlay))
    return ExecutedBlock(result.block, tuple(receipts), overlay.changes())


# --- calls ---------------------------------------------------------------------------------------


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
class AccountOverride:
    """A temporary change to one account for a call (`eth_call`'s state override set)."""

    balance: Wei | None = None
    """Replacement balance."""
    nonce: int | None = None
    """Replacement nonce."""
    code: bytes | None = None
    """Replacement code."""
    storage: tuple[tuple[int, int], ...] | None = None
    """Replacement for the whole storage (`state`)."""
    storage_diff: tuple[tuple[int, int], ...] = ()
    """Slots to change, the rest kept (`stateDiff`)."""


StateOverrides = tuple[tuple[Address, AccountOverride], ...]


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
            raise InvalidTransaction(
                "insufficient funds for gas * price + value",
                f"balance {state.get_balance(request.sender)}, value {request.value}",
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


def _make_vm(
    chain: Chain, overlay: Overlay, header: BlockHeaderAPI, inputs: BlockInputs
) -> OpenLedgerVM:
    vm = chain.vm_class(
        header=header,
        chaindb=ChainDB(overlay),
        chain_context=ChainContext(chain.chain_id),
        consensus_context=ConsensusContext(overlay),
    )
    vm.block_inputs = inputs
    return vm


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
    for address, change in overrides:
        if change.balance is not None:
            state.set_balance(address, change.balance)
        if change.nonce is not None:
            state.set_nonce(address, change.nonce)
        if change.code is not None:
            state.set_code(address, change.code)
        if change.storage is not None:
            state.delete_storage(address)
            for slot, value in change.storage:
                state.set_storage(address, slot, value)
        for slot, value in change.storage_diff:
            state.set_storage(address, slot, value)
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
        raise InvalidTransaction(
            "insufficient funds for gas * price + value", str(error)
        ) from error
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


def _describe_mismatch(expected: BlockHeaderAPI, actual: BlockHeaderAPI) -> str:
    differing = [
        name
        for name in ("state_root", "receipt_root", "transaction_root", "gas_used", "bloom")
        if getattr(expected, name) != getattr(actual, name)
    ]
    return (
        f"block {expected.block_number} does not reproduce: "
        f"{', '.join(differing) or 'header'} differ{'s' if len(differing) == 1 else ''}"
    )


__all__: Sequence[str] = (
    "AccountOverride",
    "BlockBuilder",
    "CallRequest",
    "CallResult",
    "Chain",
    "describe_revert",
    "estimate_gas",
    "import_block",
    "run_call",
)
