"""Executing blocks with py-evm (calls without a transaction are in `state.calls`).

- `BlockBuilder` fills a new block one transaction at a time and finishes it into an
  `ExecutedBlock` (block, receipts, database writes) that the store commits later.
- `import_block` re-executes a block received from a peer and checks it reproduces the header.
- `apply_overrides` changes accounts directly: for one call (`eth_call`'s state overrides), or
  at the start of a dev block (`anvil_setBalance` and kin).

Execution never writes to the database directly; every write lands in an `Overlay`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI, StateAPI
from eth.consensus.context import ConsensusContext
from eth.db.chain import ChainDB
from eth.vm.chain_context import ChainContext
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_utils import ValidationError

from openledger.genesis.types import Address, ChainId, Gas, Wei
from openledger.state.db import LevelDB, Overlay
from openledger.state.errors import (
    GasLimitReached,
    IntrinsicGasTooLow,
    InvalidBlock,
    RefusedByEvm,
)
from openledger.state.fork import BlockInputs, OpenLedgerVM
from openledger.state.impersonation import record_senders
from openledger.state.reads import SharedReads
from openledger.state.store import ExecutedBlock
from openledger.state.transactions import compute_floor_gas

ZERO_HASH = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class Chain:
    """What execution needs to know about the chain."""

    vm_class: type[OpenLedgerVM]
    """The chain's VM class (precompiles and block hooks bound)."""
    chain_id: ChainId
    """EIP-155 chain id."""
    reads: SharedReads = field(default_factory=SharedReads, compare=False, repr=False)
    """Account reads of committed states, shared by the calls on them (`state.calls`)."""


@dataclass(frozen=True, slots=True)
class AccountOverride:
    """A change to one account: for one call (`eth_call`'s state override set), or made for good
    at the start of a dev block (`anvil_setBalance` and the like)."""

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
        overrides: StateOverrides = (),
    ) -> None:
        """`overrides` change accounts before any transaction (dev mode only: a block made so
        cannot be re-executed by anyone else)."""
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
        apply_overrides(self._vm.state, overrides)
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
            raise GasLimitReached(transaction.gas, self.gas_remaining)
        floor = compute_floor_gas(transaction.data)
        if transaction.gas < floor:
            # EIP-7623 makes such a transaction invalid; py-evm 0.12.1b1 would run it and charge
            # the sender more than its gas limit.
            raise IntrinsicGasTooLow(transaction.gas, floor)
        try:
            receipt, _ = self._vm.apply_transaction(self._header, transaction)
        except ValidationError as error:
            # py-evm validates nonce, balance and fee cap before it changes anything.
            raise RefusedByEvm(str(error)) from error
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
        record_senders(self._overlay, result.block.hash, self._transactions)
        return ExecutedBlock(result.block, tuple(self._receipts), self._overlay.changes())


def apply_overrides(state: StateAPI, overrides: StateOverrides) -> None:
    """Change the accounts of `state` as `overrides` say."""
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
    "Chain",
    "StateOverrides",
    "apply_overrides",
    "compute_next_base_fee",
    "import_block",
)
