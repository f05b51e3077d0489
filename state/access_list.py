"""`eth_createAccessList`: the EIP-2930 access list a call needs, found as geth finds it.

The call runs with a tracer that records every address and storage slot its opcodes reach
(SLOAD/SSTORE, BALANCE, EXTCODE*, the CALL family, SELFDESTRUCT); the sender, the recipient
and the precompiles are warm anyway and appear only for their storage slots. Declaring a list changes the gas and so
may change the path a call takes: the call is rerun with the list found until it stops changing.
"""

import time
from dataclasses import dataclass, replace
from typing import Any

from eth.abc import BlockHeaderAPI, ComputationAPI

from openledger.genesis.types import Address, Gas
from openledger.state.calls import CallRequest, CallResult
from openledger.state.db import LevelDB
from openledger.state.execute import Chain, StateOverrides
from openledger.state.tracers import Outcome, TraceOptions, Tracer, stack_int, stack_of
from openledger.state.tracing import run_traced_call

MAX_ROUNDS = 10
"""Reruns before giving up on a list that keeps changing (geth has no bound; a call whose path
depends on its own gas could change it forever)."""
TIMEOUT = 10.0
"""Seconds all rounds together may take."""

AccessList = tuple[tuple[Address, tuple[int, ...]], ...]

_SLOT_OPS = frozenset({"SLOAD", "SSTORE"})
_ADDRESS_OPS = frozenset({"BALANCE", "EXTCODESIZE", "EXTCODECOPY", "EXTCODEHASH", "SELFDESTRUCT"})
_CALL_OPS = frozenset({"CALL", "CALLCODE", "DELEGATECALL", "STATICCALL"})


@dataclass(frozen=True, slots=True)
class AccessListResult:
    """The list found and the call's outcome with it declared."""

    access_list: AccessList
    """Addresses and slots, in the order the call first reached them."""
    result: CallResult
    """The call run with `access_list` declared (its gas includes the list's cost)."""


def create_access_list(
    chain: Chain,
    db: LevelDB,
    header: BlockHeaderAPI,
    request: CallRequest,
    gas: Gas,
    overrides: StateOverrides = (),
) -> AccessListResult:
    """The access list of `request` on the state after `header`."""
    deadline = time.monotonic() + TIMEOUT
    current = request.access_list
    for _ in range(MAX_ROUNDS):
        tracer = _AccessListTracer(TraceOptions(timeout=TIMEOUT), deadline)
        tracer.excluded = _excluded(chain, request)
        attempt = replace(request, access_list=current)
        result = run_traced_call(chain, db, header, attempt, gas, tracer, overrides)
        found = tracer.access_list()
        if found == current:
            break
        current = found
    return AccessListResult(current, result)


def _excluded(chain: Chain, request: CallRequest) -> set[bytes]:
    computation: Any = chain.vm_class.get_state_class().computation_class
    excluded = {bytes(address) for address in computation._precompiles}
    excluded.add(bytes(request.sender))
    if request.to is not None:
        excluded.add(bytes(request.to))
    return excluded


class _AccessListTracer(Tracer):
    wants_steps = True
    excluded: set[bytes]

    def __init__(self, options: TraceOptions, deadline: float) -> None:
        super().__init__(options, deadline)
        self.slots: dict[bytes, dict[int, None]] = {}
        self.created: set[bytes] = set()

    def on_enter(self, message: Any, kind: str, parent: ComputationAPI | None) -> None:
        if kind in ("CREATE", "CREATE2"):
            self.created.add(bytes(message.storage_address))

    def on_step(self, computation: ComputationAPI, op: str) -> Any:
        stack = stack_of(computation)
        if op in _SLOT_OPS and stack:
            slots = self.slots.setdefault(bytes(computation.msg.storage_address), {})
            slots[stack_int(stack[-1])] = None
        elif op in _ADDRESS_OPS and stack:
            self.slots.setdefault(_address(stack[-1]), {})
        elif op in _CALL_OPS and len(stack) >= 2:
            self.slots.setdefault(_address(stack[-2]), {})
        return None

    def access_list(self) -> AccessList:
        # The sender, the recipient and the precompiles are warm: they are listed only for
        # their slots. A contract the call creates is warm with its storage: never listed.
        return tuple(
            (Address(address), tuple(slots))
            for address, slots in self.slots.items()
            if address not in self.created and (slots or address not in self.excluded)
        )

    def result(self, outcome: Outcome) -> Any:
        return self.access_list()


def _address(item: int | bytes) -> bytes:
    return (stack_int(item) % 2**160).to_bytes(20, "big")
