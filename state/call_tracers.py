"""geth's named tracers: `callTracer` (the tree of calls, with gas, output, errors, revert
reasons and optionally logs) and `prestateTracer` (the accounts a transaction touched, before it
ran, or with `diffMode` what it changed).

The precompiles of the chain (staking, the OpenLedger registries) are message frames like any
call, so they appear in call traces with their input, output and revert reason, and their
storage in prestate traces.
"""

from typing import Any

from eth.abc import ComputationAPI, MessageAPI, StateAPI
from eth.exceptions import Revert

from openledger.state.calls import decode_revert_reason
from openledger.state.tracers import (
    Json,
    Outcome,
    TraceOptions,
    Tracer,
    data_hex,
    describe_error,
    stack_int,
    stack_of,
    word_hex,
)

LOG_OPS = frozenset({"LOG0", "LOG1", "LOG2", "LOG3", "LOG4"})


class CallTracer(Tracer):
    """geth's `callTracer`."""

    wants_steps = True  # for logs and SELFDESTRUCT, which are not message frames in py-evm

    def __init__(self, options: TraceOptions, deadline: float) -> None:
        super().__init__(options, deadline)
        self.open: list[Json] = []
        self.top: Json | None = None

    def on_enter(self, message: MessageAPI, kind: str, parent: ComputationAPI | None) -> None:
        sender = message.sender if parent is None else parent.msg.storage_address
        if kind in ("DELEGATECALL", "CALLCODE"):
            to = message.code_address
        elif kind in ("CREATE", "CREATE2"):
            to = message.storage_address
        else:
            to = message.to
        frame: Json = {
            "from": data_hex(sender),
            "gas": message.gas,
            "to": data_hex(to),
            "input": data_hex(message.code if kind in ("CREATE", "CREATE2") else message.data),
            "calls": [],
            "logs": [],
            "type": kind,
        }
        if kind != "STATICCALL":
            frame["value"] = hex(message.value)
        self.open.append(frame)

    def on_exit(self, message: MessageAPI, computation: ComputationAPI | None) -> None:
        frame = self.open.pop()
        if computation is None:
            frame.update(gasUsed=message.gas, error="execution failed")
        else:
            frame["gasUsed"] = message.gas - computation.get_gas_remaining()
            if computation.is_success:
                frame["output"] = data_hex(computation.output)
            else:
                error = computation.error
                frame["error"] = describe_error(error)
                if frame["type"] in ("CREATE", "CREATE2"):
                    del frame["to"]
                if isinstance(error, Revert) and computation.output:
                    frame["output"] = data_hex(computation.output)
                    reason = decode_revert_reason(computation.output)
                    if reason is not None:
                        frame["revertReason"] = reason
        if self.open:
            if not self.options.only_top_call:
                self.open[-1]["calls"].append(frame)
        else:
            self.top = frame

    def on_step(self, computation: ComputationAPI, op: str) -> Any:
        if op in LOG_OPS:
            return op if self.options.with_log else None
        if op == "SELFDESTRUCT":
            stack = stack_of(computation)
            address = computation.msg.storage_address
            beneficiary = stack_int(stack[-1]).to_bytes(32, "big")[12:] if stack else b""
            return (address, beneficiary, computation.state.get_balance(address))
        return None

    def on_step_end(self, computation: ComputationAPI, token: Any, error: Exception | None) -> None:
        if token is None or error is not None or not self.open:
            return
        frame = self.open[-1]
        if isinstance(token, str):  # LOGn
            if self.options.only_top_call and len(self.open) > 1:
                return
            _, address, topics, payload = computation._log_entries[-1]  # type: ignore[attr-defined]
            frame["logs"].append(
                {
                    "address": data_hex(address),
                    "topics": [word_hex(topic) for topic in topics],
                    "data": data_hex(payload),
                    "position": hex(len(frame["calls"])),
                }
            )
        elif not self.options.only_top_call:
            address, beneficiary, value = token
            frame["calls"].append(
                {
                    "from": data_hex(address),
                    "gas": 0,
                    "gasUsed": 0,
                    "to": data_hex(beneficiary),
                    "input": "0x",
                    "value": hex(value),
                    "type": "SELFDESTRUCT",
                }
            )

    def result(self, outcome: Outcome) -> Json:
        top = self.top or {"type": "CALL", "calls": [], "logs": []}
        # The transaction's own gas, as its receipt counts it (intrinsic gas included).
        top["gas"] = outcome.gas_limit
        top["gasUsed"] = outcome.gas_used
        if self.options.with_log:
            _clear_failed_logs(top, parent_failed=False)
        return _ordered(top)


def _clear_failed_logs(frame: Json, parent_failed: bool) -> None:
    # A failed call's logs, and those of its children, were never emitted.
    failed = parent_failed or "error" in frame
    if failed:
        frame["logs"] = []
    for child in frame.get("calls", ()):
        _clear_failed_logs(child, failed)


_FIELD_ORDER = (
    "from", "gas", "gasUsed", "to", "input", "output", "error", "revertReason", "calls", "logs",
    "value", "type",
)  # fmt: skip


def _ordered(frame: Json) -> Json:
    # geth's field order, with its empty lists left out and gas as hex quantities.
    result: Json = {}
    for name in _FIELD_ORDER:
        if name not in frame:
            continue
        value = frame[name]
        if name in ("calls", "logs") and not value:
            continue
        if name == "calls":
            value = [_ordered(child) for child in value]
        elif name in ("gas", "gasUsed"):
            value = hex(value)
        result[name] = value
    return result


class PrestateTracer(Tracer):
    """geth's `prestateTracer`: every account and slot the transaction touched, as it was
    before; with `diffMode`, {pre, post} of only what changed."""

    wants_state = True

    def __init__(self, options: TraceOptions, deadline: float) -> None:
        super().__init__(options, deadline)
        self.pre: dict[bytes, _Account] = {}
        self.created: set[bytes] = set()
        self.state: StateAPI | None = None

    def on_enter(self, message: MessageAPI, kind: str, parent: ComputationAPI | None) -> None:
        if kind in ("CREATE", "CREATE2"):
            self.created.add(bytes(message.storage_address))

    def on_touch(self, state: StateAPI, address: bytes, slot: int | None) -> None:
        self.state = state
        accounts = state._account_db  # type: ignore[attr-defined]
        key = bytes(address)
        account = self.pre.get(key)
        if account is None:
            account = self.pre[key] = _Account(
                accounts.get_balance(address), accounts.get_nonce(address),
                accounts.get_code(address), {},
            )  # fmt: skip
        if slot is not None and slot not in account.storage:
            account.storage[slot] = accounts.get_storage(address, slot)

    def result(self, outcome: Outcome) -> Json:
        fresh = {a for a in self.created if a in self.pre and not self.pre[a].exists()}
        if not self.options.diff_mode:
            return {data_hex(a): acc.to_json() for a, acc in self.pre.items() if a not in fresh}
        pre: Json = {}
        post: Json = {}
        accounts: Any = getattr(self.state, "_account_db", None)
        for address, before in self.pre.items():
            after = _Account(
                accounts.get_balance(address), accounts.get_nonce(address),
                accounts.get_code(address),
                {slot: accounts.get_storage(address, slot) for slot in before.storage},
            )  # fmt: skip
            changed = {s for s, v in before.storage.items() if after.storage[s] != v}
            post_json: Json = {}
            if after.balance != before.balance:
                post_json["balance"] = hex(after.balance)
            if after.code != before.code:
                post_json["code"] = data_hex(after.code)
            if after.nonce != before.nonce:
                post_json["nonce"] = after.nonce
            new_slots = {
                word_hex(s): word_hex(after.storage[s]) for s in changed if after.storage[s]
            }
            if new_slots:
                post_json["storage"] = new_slots
            if not post_json and not changed:
                continue
            post[data_hex(address)] = post_json
            if address not in fresh:
                kept = {s: v for s, v in before.storage.items() if s in changed and v}
                pre[data_hex(address)] = _Account(
                    before.balance, before.nonce, before.code, kept
                ).to_json()
        return {"post": post, "pre": pre}


class _Account:
    """An account as the prestate tracer records it."""

    __slots__ = ("balance", "code", "nonce", "storage")

    def __init__(self, balance: int, nonce: int, code: bytes, storage: dict[int, int]) -> None:
        self.balance = balance
        self.nonce = nonce
        self.code = code
        self.storage = storage

    def exists(self) -> bool:
        return bool(self.nonce or self.code or self.balance or any(self.storage.values()))

    def to_json(self) -> Json:
        # geth's `account`: balance always, the rest only when non-empty.
        result: Json = {"balance": hex(self.balance)}
        if self.code:
            result["code"] = data_hex(self.code)
        if self.nonce:
            result["nonce"] = self.nonce
        if self.storage:
            result["storage"] = {word_hex(s): word_hex(v) for s, v in self.storage.items()}
        return result
