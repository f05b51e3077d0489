"""geth's tracers over py-evm: the struct logger (the default), `callTracer` and
`prestateTracer`, each producing geth's JSON output exactly (field names, hex encodings, which
fields are left out).

A tracer only records: `state.tracing` runs the transaction with hooks that call it at each
opcode (`on_step`, `on_step_end`), at each message frame (`on_enter`, `on_exit`) and at each
state access (`on_touch`). It must not change execution; it may raise `TraceError` to stop it
(the time and size limits do).
"""

from dataclasses import dataclass
from typing import Any

from eth.abc import ComputationAPI, MessageAPI, StateAPI
from eth.exceptions import Revert

from openledger.genesis.errors import OpenLedgerError

MAX_STRUCT_LOGS = 100_000
"""Most struct log entries one trace (a block's traces together) may hold: a 30M-gas loop would
otherwise build gigabytes. Past it the trace fails; `limit` truncates each transaction's log
earlier, as geth does."""
MAX_STRUCT_LOG_WORDS = 4_000_000
"""Most stack items, memory words and storage entries the struct logs of one trace may hold (a
deep stack or a large memory copied at every step would pass any step limit in size)."""
CALL_OPS = frozenset({"CALL", "CALLCODE", "DELEGATECALL", "STATICCALL", "CREATE", "CREATE2"})
ZERO_ADDRESS = b"\x00" * 20

Json = dict[str, Any]


class TraceError(OpenLedgerError):
    """A trace that could not be produced: over its time or size limit, or badly configured."""


@dataclass(frozen=True, slots=True)
class TraceOptions:
    """geth's `TraceConfig`, parsed."""

    tracer: str = ""
    """"" for the struct logger, else "callTracer" or "prestateTracer"."""
    timeout: float = 5.0
    """Seconds the whole trace may take (geth's default is 5 s)."""
    disable_storage: bool = False
    """Struct logger: leave out `storage`."""
    disable_stack: bool = False
    """Struct logger: leave out `stack`."""
    enable_memory: bool = False
    """Struct logger: include `memory`."""
    enable_return_data: bool = False
    """Struct logger: include `returnData`."""
    limit: int = 0
    """Struct logger: record at most this many steps (0: up to `MAX_STRUCT_LOGS`)."""
    only_top_call: bool = False
    """callTracer: the top call only."""
    with_log: bool = False
    """callTracer: include the logs each call emitted."""
    diff_mode: bool = False
    """prestateTracer: return {pre, post} of what changed."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the traced transaction ended, as its receipt would say."""

    gas_limit: int
    """The transaction's gas limit."""
    gas_used: int
    """Gas used, after refunds (the receipt's)."""
    output: bytes
    """Return data, or revert data."""
    error: str
    """"" on success, else geth's message ("execution reverted", "out of gas", ...)."""


class Tracer:
    """Hooks called during execution; the defaults do nothing."""

    wants_steps = False
    """Whether `on_step`/`on_step_end` must be called (they cost a call per opcode)."""
    wants_state = False
    """Whether `on_touch` must be called at each account and storage access."""

    def __init__(self, options: TraceOptions, deadline: float) -> None:
        self.options = options
        self.deadline = deadline
        self.frames: list[ComputationAPI] = []
        """The open message frames, outermost first (kept by `state.tracing`)."""
        self.context: Any = None
        """The transaction context of the frame being entered (its log counter)."""

    def on_step(self, computation: ComputationAPI, op: str) -> Any:
        return None

    def on_step_end(self, computation: ComputationAPI, token: Any, error: Exception | None) -> None:
        return None

    def on_enter(self, message: MessageAPI, kind: str, parent: ComputationAPI | None) -> None:
        return None

    def on_exit(self, message: MessageAPI, computation: ComputationAPI | None) -> None:
        return None

    def on_child(self, token: Any, parent: ComputationAPI) -> None:
        """The step `token` (a CALL or CREATE) of `parent` starts a child frame."""
        return None

    def on_touch(self, state: StateAPI, address: bytes, slot: int | None) -> None:
        return None

    def result(self, outcome: Outcome) -> Any:
        """The trace, as geth's tracer of the same name answers it."""
        raise NotImplementedError


def describe_error(error: Exception) -> str:
    """geth's message for an EVM error."""
    name = type(error).__name__
    if isinstance(error, Revert):
        return "execution reverted"
    known = {
        "OutOfGas": "out of gas",
        "InsufficientStack": "stack underflow",
        "FullStack": "stack limit reached 1024",
        "InvalidJumpDestination": "invalid jump destination",
        "InvalidInstruction": "invalid opcode",
        "StackDepthLimit": "max call depth exceeded",
        "WriteProtection": "write protection",
        "OutOfBoundsRead": "return data out of bounds",
        "ContractCreationCollision": "contract address collision",
        "InsufficientFunds": "insufficient balance for transfer",
        "ReservedBytesInCode": "invalid code: must not begin with 0xef",
    }
    return known.get(name) or (f"{name}: {error}" if str(error) else name)


def data_hex(value: bytes) -> str:
    """Bytes as geth's hexutil.Bytes ("0x" for none)."""
    return "0x" + bytes(value).hex()


def word_hex(value: int) -> str:
    """A 256-bit word as 32 bytes of hex (storage keys and values)."""
    return "0x" + value.to_bytes(32, "big").hex()


def stack_int(item: int | bytes) -> int:
    """A py-evm stack item (kept as int or bytes, as it was pushed) as an int."""
    return item if isinstance(item, int) else int.from_bytes(item, "big")


def stack_of(computation: ComputationAPI) -> list[int | bytes]:
    """The computation's stack, bottom first."""
    return computation._stack.values  # type: ignore[attr-defined, no-any-return]


# --- struct logger ---------------------------------------------------------------------------------


class TraceBudget:
    """What the struct logs of one trace may still hold; a block's traces share one."""

    __slots__ = ("steps", "words")

    def __init__(self) -> None:
        self.steps = MAX_STRUCT_LOGS
        self.words = MAX_STRUCT_LOG_WORDS


class StructLogger(Tracer):
    """geth's default tracer: one entry per opcode, with the stack, memory and storage."""

    wants_steps = True

    def __init__(self, options: TraceOptions, deadline: float) -> None:
        super().__init__(options, deadline)
        self.logs: list[Json] = []
        self.budget = TraceBudget()
        self.storage: dict[bytes, dict[str, str]] = {}

    def on_step(self, computation: ComputationAPI, op: str) -> Any:
        options = self.options
        if options.limit and len(self.logs) >= options.limit:
            return None
        budget = self.budget
        budget.steps -= 1
        if budget.steps < 0:
            raise TraceError(
                f"the trace has more than {MAX_STRUCT_LOGS} steps; set `limit` to get the first "
                "steps of each transaction, or use callTracer"
            )
        entry: Json = {
            "pc": computation.code.program_counter - 1,
            "op": op,
            "gas": computation.get_gas_remaining(),
            "gasCost": 0,
            "depth": computation.msg.depth + 1,
        }
        stack = stack_of(computation)
        if options.enable_return_data:
            entry["returnData"] = data_hex(computation.return_data)
        if not options.disable_stack:
            entry["stack"] = [hex(stack_int(item)) for item in stack]
        if options.enable_memory:
            memory = bytes(computation._memory._bytes)  # type: ignore[attr-defined]
            entry["memory"] = ["0x" + memory[i : i + 32].hex() for i in range(0, len(memory), 32)]
        if not options.disable_storage and op in ("SLOAD", "SSTORE") and stack:
            address = computation.msg.storage_address
            slot = stack_int(stack[-1])
            if op == "SLOAD":
                value = computation.state.get_storage(address, slot)
            elif len(stack) >= 2:
                value = stack_int(stack[-2])
            else:
                value = 0
            seen = self.storage.setdefault(address, {})
            seen[word_hex(slot)] = word_hex(value)
            entry["storage"] = dict(seen)
        entry["refund"] = self.refund()
        budget.words -= (
            len(entry.get("stack", ()))
            + len(entry.get("memory", ()))
            + len(entry.get("storage", ()))
        )
        if budget.words < 0:
            raise TraceError(
                f"the trace would hold more than {MAX_STRUCT_LOG_WORDS} words of stack, memory "
                "and storage; use disableStack, disableStorage, no enableMemory, a smaller "
                "limit, or callTracer"
            )
        self.logs.append(entry)
        return entry

    def on_step_end(self, computation: ComputationAPI, token: Any, error: Exception | None) -> None:
        if token is None:
            return
        if not token["gasCost"]:
            token["gasCost"] = max(0, token["gas"] - computation.get_gas_remaining())
        if error is not None and not isinstance(error, Revert):
            token["error"] = describe_error(error)

    def on_child(self, token: Any, parent: ComputationAPI) -> None:
        # geth's cost of a CALL or CREATE is what the parent paid when the child started (the gas
        # handed to it included), not what the child went on to use.
        if token is not None and not token["gasCost"]:
            token["gasCost"] = token["gas"] - parent.get_gas_remaining()

    def refund(self) -> int:
        # geth's refund counter is global to the transaction; py-evm keeps one per frame, folded
        # into the parent when a child succeeds: the open frames' counters add up to geth's.
        return sum(frame.get_gas_refund() for frame in self.frames)

    def result(self, outcome: Outcome) -> Json:
        return {
            "gas": outcome.gas_used,
            "failed": bool(outcome.error),
            "returnValue": data_hex(outcome.output),
            "structLogs": self.logs,
        }
