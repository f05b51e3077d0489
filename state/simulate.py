"""`eth_simulateV1`: calls executed in a sequence of simulated blocks on top of a committed block,
each block with its own overrides, every call seeing the state the previous ones left.

Calls are unsigned: each becomes a transaction with an empty signature executed as its `from`
(py-evm's `SpoofTransaction`), so that the simulated blocks have real headers, transaction
roots and receipts. Without `validation` the calls run as `eth_call` runs them (no base fee,
the account's own nonce); with it, nonces, fees and balances are checked as for a real block.
With `traceTransfers` every value transfer adds an ERC-20 `Transfer` log from
0xeeee...eeee. Nothing reaches the database: all blocks live in one throwaway overlay.
"""

import time
from dataclasses import dataclass
from typing import Any

from eth.abc import BlockHeaderAPI, ComputationAPI, MessageAPI, SignedTransactionAPI
from eth.consensus.context import ConsensusContext
from eth.db.chain import ChainDB
from eth.exceptions import Revert
from eth.vm.chain_context import ChainContext
from eth.vm.spoof import SpoofTransaction
from eth_utils import ValidationError, keccak

from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.types import Address
from openledger.state.calls import CallRequest
from openledger.state.db import LevelDB, Overlay
from openledger.state.execute import Chain, StateOverrides, apply_overrides
from openledger.state.fork import BlockInputs, NoHooks
from openledger.state.tracers import TraceOptions, Tracer, describe_error
from openledger.state.tracing import Hub, make_traced_vm_class

MAX_BLOCKS = 256
"""Most blocks one simulation may build (the reach of BLOCKHASH, as the spec recommends)."""
MAX_CALLS = 1000
"""Most calls over all blocks."""
TIMEOUT = 10.0
"""Seconds one simulation may run."""
TRANSFER_LOG_ADDRESS = Address(b"\xee" * 20)
TRANSFER_TOPIC = int.from_bytes(keccak(text="Transfer(address,address,uint256)"), "big")
ZERO_HASH = b"\x00" * 32


class SimulationError(OpenLedgerError):
    """A simulation refused as a whole; `code` is the spec's error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class BlockOverrides:
    """Fields of a simulated block that the caller sets (None: derived from the parent)."""

    number: int | None = None
    time: int | None = None
    gas_limit: int | None = None
    fee_recipient: Address | None = None
    prev_randao: bytes | None = None
    base_fee: int | None = None


@dataclass(frozen=True, slots=True)
class SimCall:
    """One call of a simulated block."""

    request: CallRequest
    """The message; `gas` None means what is left in the block."""
    nonce: int | None = None
    """The nonce to use; None takes the account's."""


@dataclass(frozen=True, slots=True)
class SimBlock:
    """One entry of `blockStateCalls`."""

    overrides: BlockOverrides = BlockOverrides()
    state_overrides: StateOverrides = ()
    calls: tuple[SimCall, ...] = ()


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """The result of one simulated call."""

    success: bool
    output: bytes
    gas_used: int
    logs: tuple[tuple[bytes, tuple[int, ...], bytes], ...]
    """(address, topics, data) of each log, transfer logs included, in order."""
    error: str = ""
    reverted: bool = False


@dataclass(frozen=True, slots=True)
class SimulatedBlock:
    """A finished simulated block."""

    header: BlockHeaderAPI
    transactions: tuple[SignedTransactionAPI, ...]
    """The calls as transactions (with empty signatures)."""
    senders: tuple[Address, ...]
    outcomes: tuple[CallOutcome, ...]


def simulate(
    chain: Chain,
    db: LevelDB,
    base: BlockHeaderAPI,
    blocks: tuple[SimBlock, ...],
    *,
    validation: bool = False,
    trace_transfers: bool = False,
) -> list[SimulatedBlock]:
    """Build `blocks` one after the other on the state after `base`."""
    if len(blocks) > MAX_BLOCKS:
        raise SimulationError(-38026, f"at most {MAX_BLOCKS} blocks in one simulation")
    if sum(len(block.calls) for block in blocks) > MAX_CALLS:
        raise SimulationError(-38026, f"at most {MAX_CALLS} calls in one simulation")
    hub = Hub(time.monotonic() + TIMEOUT)
    vm_class = make_traced_vm_class(chain.vm_class, hub)
    overlay: Any = Overlay(db)
    parent = base
    results = []
    for block in blocks:
        tracer = _TransferTracer(TraceOptions(), hub.deadline) if trace_transfers else None
        finished = _simulate_block(chain, vm_class, overlay, parent, block, validation, hub, tracer)
        results.append(finished)
        parent = finished.header
    return results


def _simulate_block(
    chain: Chain,
    vm_class: Any,
    overlay: Any,
    parent: BlockHeaderAPI,
    block: SimBlock,
    validation: bool,
    hub: Hub,
    tracer: "_TransferTracer | None",
) -> SimulatedBlock:
    header = _header(vm_class, parent, block.overrides, validation)
    vm = vm_class(
        header=header,
        chaindb=ChainDB(overlay),
        chain_context=ChainContext(chain.chain_id),
        consensus_context=ConsensusContext(overlay),
    )
    vm.hooks = NoHooks()  # staking rewards and epochs are no part of a simulation
    vm.block_inputs = BlockInputs(proposer=Address(header.coinbase))
    vm.block_preprocessing(vm.get_block())
    apply_overrides(vm.state, block.state_overrides)
    header = vm.get_header()
    transactions, senders, receipts, outcomes = [], [], [], []
    builder = vm.get_transaction_builder()
    for call in block.calls:
        request = call.request
        state = vm.state
        nonce = state.get_nonce(request.sender)
        if validation and call.nonce is not None and call.nonce != nonce:
            code, word = (-38010, "low") if call.nonce < nonce else (-38011, "high")
            raise SimulationError(
                code, f"nonce too {word}: address 0x{request.sender.hex()}, tx: {call.nonce} "
                f"state: {nonce}",
            )  # fmt: skip
        remaining = header.gas_limit - header.gas_used
        gas = request.gas if request.gas is not None else remaining
        if gas > remaining:
            raise SimulationError(-38015, f"block gas limit reached: {gas} > {remaining}")
        max_fee = request.max_fee_per_gas or 0
        if validation and max_fee < (header.base_fee_per_gas or 0):
            raise SimulationError(
                -38012, f"max fee per gas less than block base fee: {max_fee} < "
                f"{header.base_fee_per_gas}",
            )  # fmt: skip
        tip = request.max_priority_fee_per_gas
        fields = dict(
            chain_id=chain.chain_id, nonce=nonce, max_priority_fee_per_gas=min(tip or 0, max_fee),
            max_fee_per_gas=max_fee, gas=gas, to=request.to if request.to is not None else b"",
            value=request.value, data=request.data, access_list=request.access_list,
        )  # fmt: skip
        # The block holds the call with an empty signature; it executes as its `from`.
        transaction = builder.new_dynamic_fee_transaction(**fields, y_parity=0, r=0, s=0)
        spoofed = SpoofTransaction(
            builder.new_unsigned_dynamic_fee_transaction(**fields), from_=request.sender
        )
        if tracer is not None:
            tracer.start()
        hub.tracer = tracer
        try:
            # VM.apply_transaction's steps, with the receipt made from the block's transaction
            # (a spoofed unsigned one cannot make a typed receipt).
            vm.validate_transaction_against_header(header, spoofed)
            vm.state.lock_changes()
            computation = vm.state.apply_transaction(spoofed)
            receipt = vm.make_receipt(header, transaction, computation, vm.state)
        except ValidationError as error:
            code = -38013 if "intrinsic" in str(error).lower() else -38014
            raise SimulationError(code, str(error)) from error
        finally:
            hub.tracer = None
        outcomes.append(_outcome(computation, receipt.gas_used - header.gas_used, tracer))
        header = vm.add_receipt_to_header(header, receipt)
        transactions.append(transaction)
        senders.append(request.sender)
        receipts.append(receipt)
    finished = vm.set_block_transactions_and_withdrawals(
        vm.get_block(), header, transactions, receipts, withdrawals=()
    )
    # mine_block without its validation: overridden numbers, times and fees are the point.
    mined = vm.finalize_block(vm.pack_block(vm.block_postprocessing(finished)))
    return SimulatedBlock(mined.block.header, tuple(transactions), tuple(senders), tuple(outcomes))


def _header(
    vm_class: Any, parent: BlockHeaderAPI, overrides: BlockOverrides, validation: bool
) -> BlockHeaderAPI:
    number = overrides.number if overrides.number is not None else parent.block_number + 1
    if number <= parent.block_number:
        raise SimulationError(
            -38020, f"block numbers must increase: {number} after {parent.block_number}"
        )
    timestamp = overrides.time if overrides.time is not None else parent.timestamp + 1
    if timestamp < parent.timestamp:
        raise SimulationError(
            -38021, f"block timestamps must not decrease: {timestamp} after {parent.timestamp}"
        )
    header = vm_class.create_header_from_parent(
        parent,
        coinbase=overrides.fee_recipient or parent.coinbase,
        timestamp=timestamp,
        gas_limit=overrides.gas_limit or parent.gas_limit,
        extra_data=b"",
        mix_hash=overrides.prev_randao or parent.mix_hash,
        parent_beacon_block_root=ZERO_HASH,
    )
    fields: dict[str, Any] = {}
    if number != header.block_number:
        fields["block_number"] = number
    if overrides.base_fee is not None:
        fields["base_fee_per_gas"] = overrides.base_fee
    elif not validation:
        fields["base_fee_per_gas"] = 0  # as eth_call: no fee is charged or checked
    return header.copy(**fields) if fields else header


def _outcome(
    computation: ComputationAPI, gas_used: int, tracer: "_TransferTracer | None"
) -> CallOutcome:
    entries = list(computation.get_raw_log_entries())
    if tracer is not None:
        entries = sorted(entries + tracer.kept)
    logs = tuple((bytes(a), tuple(topics), bytes(d)) for _, a, topics, d in entries)
    if computation.is_success:
        return CallOutcome(True, computation.output, gas_used, logs)
    error = computation.error
    reverted = isinstance(error, Revert)
    return CallOutcome(False, computation.output if reverted else b"", gas_used, (),
                       describe_error(error), reverted)  # fmt: skip


class _TransferTracer(Tracer):
    """Records value transfers as logs, dropping those of frames that fail."""

    def __init__(self, options: TraceOptions, deadline: float) -> None:
        super().__init__(options, deadline)
        self.kept: list[tuple[int, bytes, tuple[int, ...], bytes]] = []
        self.marks: list[int] = []

    def start(self) -> None:
        self.kept = []
        self.marks = []

    def on_enter(self, message: MessageAPI, kind: str, parent: ComputationAPI | None) -> None:
        self.marks.append(len(self.kept))
        if message.value and kind not in ("DELEGATECALL", "STATICCALL") and self.context:
            to = message.storage_address
            counter = self.context.get_next_log_counter()
            topics = (TRANSFER_TOPIC, int.from_bytes(message.sender, "big"),
                      int.from_bytes(to, "big"))  # fmt: skip
            self.kept.append((counter, TRANSFER_LOG_ADDRESS, topics,
                              message.value.to_bytes(32, "big")))  # fmt: skip

    def on_exit(self, message: MessageAPI, computation: ComputationAPI | None) -> None:
        mark = self.marks.pop()
        if computation is None or computation.is_error:
            del self.kept[mark:]
