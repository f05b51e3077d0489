"""Re-executing transactions and calls with a tracer attached (`debug_trace*`).

py-evm has no tracer API. Tracing builds, per trace, subclasses of the chain's computation and
state classes (`make_traced_vm_class`) whose opcode table wraps every opcode and whose message
and state methods report to the tracer; the chain's own classes are never touched, so execution
outside a trace costs nothing more. The wrapped loop also enforces the trace's deadline.

- `trace_block` replays a block's transactions on its parent's state (with the block hooks, as
  import does) and traces those asked for;
- `trace_call` traces a call on a block's state, as `eth_call` runs it.

Everything runs on a throwaway overlay: a trace never writes to the database.
"""

import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from eth.abc import BlockAPI, BlockHeaderAPI, ComputationAPI, MessageAPI, StateAPI
from eth.consensus.context import ConsensusContext
from eth.db.chain import ChainDB
from eth.exceptions import Halt
from eth.vm.chain_context import ChainContext
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth.vm.logic.invalid import InvalidOpcode

from openledger.genesis.types import Gas
from openledger.state.call_tracers import CallTracer, PrestateTracer
from openledger.state.calls import CallRequest, CallResult, run_call
from openledger.state.db import LevelDB, Overlay
from openledger.state.execute import Chain, StateOverrides, apply_overrides
from openledger.state.fork import BlockInputs, OpenLedgerVM
from openledger.state.tracers import (
    CALL_OPS,
    Outcome,
    StructLogger,
    TraceBudget,
    TraceError,
    TraceOptions,
    Tracer,
    describe_error,
)

CHECK_CLOCK_EVERY = 1024
"""Opcodes between two looks at the clock (a look costs more than most opcodes)."""

TRACERS: dict[str, Callable[[TraceOptions, float], Tracer]] = {
    "": StructLogger,
    "callTracer": CallTracer,
    "prestateTracer": PrestateTracer,
}
"""The tracers by the name `TraceConfig.tracer` gives them ("" is the struct logger)."""

if TYPE_CHECKING:
    _ComputationBase = PragueComputation
    _StateBase = PragueState
else:
    _ComputationBase = object
    _StateBase = object


def trace_block(
    chain: Chain,
    db: LevelDB,
    parent: BlockHeaderAPI,
    block: BlockAPI,
    inputs: BlockInputs,
    options: TraceOptions,
    indexes: Collection[int] | None = None,
) -> list[Any]:
    """The traces of the transactions of `block` at `indexes` (all when None), in order.

    Raises TraceError when the trace runs past its deadline or its size limit.
    """
    hub = Hub(time.monotonic() + options.timeout)
    vm_class = make_traced_vm_class(chain.vm_class, hub)
    overlay = Overlay(db)
    source = block.header
    header = vm_class.create_header_from_parent(
        parent,
        coinbase=source.coinbase,
        timestamp=source.timestamp,
        gas_limit=source.gas_limit,
        extra_data=source.extra_data,
        mix_hash=source.mix_hash,
        parent_beacon_block_root=source.parent_beacon_block_root,
    )
    if header.base_fee_per_gas != source.base_fee_per_gas:
        header = header.copy(base_fee_per_gas=source.base_fee_per_gas)  # a dev node may set it
    vm = vm_class(
        header=header,
        chaindb=ChainDB(overlay),
        chain_context=ChainContext(chain.chain_id),
        consensus_context=ConsensusContext(overlay),
    )
    vm.block_inputs = inputs
    vm.block_preprocessing(vm.get_block())
    header = vm.get_header()
    wanted = range(len(block.transactions)) if indexes is None else indexes
    last = max(wanted, default=-1)
    results: list[Any] = []
    budget = TraceBudget()
    for index, transaction in enumerate(block.transactions[: last + 1]):
        tracer = make_tracer(options, hub.deadline) if index in wanted else None
        if isinstance(tracer, StructLogger):
            tracer.budget = budget
        hub.tracer = tracer
        try:
            receipt, computation = vm.apply_transaction(header, transaction)
        finally:
            hub.tracer = None
        if tracer is not None:
            outcome = Outcome(
                gas_limit=transaction.gas,
                gas_used=receipt.gas_used - header.gas_used,
                output=computation.output,
                error=describe_error(computation.error) if computation.is_error else "",
            )
            results.append(tracer.result(outcome))
        header = vm.add_receipt_to_header(header, receipt)
    return results


def trace_call(
    chain: Chain,
    db: LevelDB,
    header: BlockHeaderAPI,
    request: CallRequest,
    gas_cap: Gas,
    options: TraceOptions,
    overrides: StateOverrides = (),
) -> Any:
    """The trace of `request` run as `eth_call` runs it on the state after `header`."""
    tracer = make_tracer(options, time.monotonic() + options.timeout)
    gas = Gas(min(request.gas or gas_cap, gas_cap))
    result = run_traced_call(chain, db, header, request, gas, tracer, overrides)
    error = "" if result.success else result.error or "execution reverted"
    return tracer.result(Outcome(gas, result.gas_used, result.output, error))


def run_traced_call(
    chain: Chain,
    db: LevelDB,
    header: BlockHeaderAPI,
    request: CallRequest,
    gas: Gas,
    tracer: Tracer,
    overrides: StateOverrides = (),
) -> CallResult:
    """Run `request` as `eth_call` does, with `tracer` attached (until its deadline)."""
    hub = Hub(tracer.deadline)
    traced = Chain(make_traced_vm_class(chain.vm_class, hub), chain.chain_id)
    base: Any = Overlay(db)
    if overrides:
        # The overrides are the starting state, not part of what the trace reports: apply them
        # first, untraced, and trace on the resulting state root.
        prev = chain.vm_class.get_prev_hashes(header.parent_hash, ChainDB(base)) or ()
        state = chain.vm_class.build_state(base, header, ChainContext(chain.chain_id), prev)
        apply_overrides(state, overrides)
        state.persist()
        header = header.copy(state_root=state.state_root)
    hub.tracer = tracer
    return run_call(traced, base, header, request, gas)


def make_tracer(options: TraceOptions, deadline: float) -> Tracer:
    """The tracer `options` names; it stops the trace at `deadline` (`time.monotonic()`)."""
    factory = TRACERS.get(options.tracer)
    if factory is None:
        raise TraceError(f"tracer {options.tracer!r} not found")
    return factory(options, deadline)


def make_traced_vm_class(vm_class: type[OpenLedgerVM], hub: "Hub") -> type[OpenLedgerVM]:
    """`vm_class` with every opcode, message and state access reported to `hub.tracer`."""
    state_class = vm_class.get_state_class()
    computation_class: Any = state_class.computation_class
    opcodes = {
        value: _TracedOpcode(
            computation_class.opcodes.get(value) or InvalidOpcode(value), value, hub
        )
        for value in range(256)
    }
    computation = type(
        "TracedComputation",
        (_TracedComputation, computation_class),
        {"hub": hub, "opcodes": opcodes},
    )
    state = type(
        "TracedState", (_TracedState, state_class), {"hub": hub, "computation_class": computation}
    )
    return type("TracedVM", (vm_class,), {"_state_class": state})


# --- hooks ----------------------------------------------------------------------------------------


class Hub:
    """What the hooks of one trace share: the tracer (None between traced transactions), the
    deadline, and the step and call in progress."""

    __slots__ = ("call_kind", "deadline", "open_steps", "steps", "tracer")

    def __init__(self, deadline: float) -> None:
        self.tracer: Tracer | None = None
        self.deadline = deadline
        self.steps = 0
        self.call_kind: str | None = None
        self.open_steps: list[Any] = []


class _TracedOpcode:
    """One opcode of the traced table: the chain's opcode with the tracer's hooks around it."""

    __slots__ = ("hub", "inner", "is_call", "mnemonic")

    def __init__(self, inner: Callable[..., None], value: int, hub: Hub) -> None:
        self.inner = inner
        mnemonic: str = getattr(inner, "mnemonic", "INVALID")
        if isinstance(inner, InvalidOpcode) and value != 0xFE:
            mnemonic = f"opcode {value:#x} not defined"  # geth's name for an undefined opcode
        self.mnemonic = mnemonic
        self.hub = hub
        self.is_call = mnemonic in CALL_OPS

    def __call__(self, computation: ComputationAPI) -> None:
        hub = self.hub
        hub.steps += 1
        if not hub.steps % CHECK_CLOCK_EVERY and time.monotonic() > hub.deadline:
            raise TraceError("execution timeout: the trace ran past its time limit")
        tracer = hub.tracer
        if tracer is None:
            self.inner(computation=computation)
            return
        token = tracer.on_step(computation, self.mnemonic) if tracer.wants_steps else None
        if self.is_call:
            hub.call_kind = self.mnemonic
        hub.open_steps.append(token)
        try:
            self.inner(computation=computation)
        except TraceError:
            raise
        except Halt:
            hub.open_steps.pop()
            tracer.on_step_end(computation, token, None)
            raise
        except Exception as error:
            hub.open_steps.pop()
            tracer.on_step_end(computation, token, error)
            raise
        hub.open_steps.pop()
        tracer.on_step_end(computation, token, None)


class _TracedComputation(_ComputationBase):
    """Reports every message frame (calls, creates, precompiles) to the tracer."""

    hub: Hub

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        tracer = self.hub.tracer
        if tracer is not None:
            tracer.frames.append(self)

    @classmethod
    def apply_message(  # type: ignore[override]
        cls, state: StateAPI, message: MessageAPI, context: Any, parent_computation: Any = None
    ) -> ComputationAPI:
        run = super().apply_message
        if message.is_create:  # the frame was opened by apply_create_message
            return run(state, message, context, parent_computation=parent_computation)
        return cls._frame(run, state, message, context, parent_computation)

    @classmethod
    def apply_create_message(  # type: ignore[override]
        cls, state: StateAPI, message: MessageAPI, context: Any, parent_computation: Any = None
    ) -> ComputationAPI:
        return cls._frame(super().apply_create_message, state, message, context, parent_computation)

    @classmethod
    def _frame(
        cls,
        run: Callable[..., ComputationAPI],
        state: StateAPI,
        message: MessageAPI,
        context: Any,
        parent: Any,
    ) -> ComputationAPI:
        hub = cls.hub
        tracer = hub.tracer
        if tracer is None:
            return run(state, message, context, parent_computation=parent)
        if parent is None:
            kind = "CREATE" if message.is_create else "CALL"
        else:
            kind = hub.call_kind or ("CREATE" if message.is_create else "CALL")
            if hub.open_steps:
                tracer.on_child(hub.open_steps[-1], parent)
        hub.call_kind = None
        depth = len(tracer.frames)
        tracer.context = context
        tracer.on_enter(message, kind, parent)
        try:
            computation = run(state, message, context, parent_computation=parent)
        except TraceError:
            raise
        except Exception:
            del tracer.frames[depth:]
            tracer.on_exit(message, None)
            raise
        del tracer.frames[depth:]
        tracer.on_exit(message, computation)
        return computation


class _TracedState(_StateBase):
    """Reports every account and storage access to the tracer (the prestate tracer's input)."""

    hub: Hub

    def _touch(self, address: Any, slot: int | None = None) -> None:
        tracer = self.hub.tracer
        if tracer is not None and tracer.wants_state:
            tracer.on_touch(self, address, slot)

    def get_balance(self, address: Any) -> int:
        self._touch(address)
        return super().get_balance(address)

    def set_balance(self, address: Any, balance: int) -> None:
        self._touch(address)
        super().set_balance(address, balance)

    def get_nonce(self, address: Any) -> int:
        self._touch(address)
        return super().get_nonce(address)

    def set_nonce(self, address: Any, nonce: int) -> None:
        self._touch(address)
        super().set_nonce(address, nonce)

    def increment_nonce(self, address: Any) -> None:
        self._touch(address)
        super().increment_nonce(address)

    def get_code(self, address: Any) -> bytes:
        self._touch(address)
        return super().get_code(address)

    def set_code(self, address: Any, code: bytes) -> None:
        self._touch(address)
        super().set_code(address, code)

    def get_code_hash(self, address: Any) -> Any:
        self._touch(address)
        return super().get_code_hash(address)

    def delete_code(self, address: Any) -> None:
        self._touch(address)
        super().delete_code(address)

    def get_storage(self, address: Any, slot: int, from_journal: bool = True) -> int:
        self._touch(address, slot)
        return super().get_storage(address, slot, from_journal)

    def set_storage(self, address: Any, slot: int, value: int) -> None:
        self._touch(address, slot)
        super().set_storage(address, slot, value)

    def delete_storage(self, address: Any) -> None:
        self._touch(address)
        super().delete_storage(address)

    def delete_account(self, address: Any) -> None:
        self._touch(address)
        super().delete_account(address)

    def account_exists(self, address: Any) -> bool:
        self._touch(address)
        return super().account_exists(address)

    def touch_account(self, address: Any) -> None:
        self._touch(address)
        super().touch_account(address)

    def account_is_empty(self, address: Any) -> bool:
        self._touch(address)
        return super().account_is_empty(address)
