"""Dispatch: from a call's calldata to a method's handler, and what the handler sees of the call.

Calling a precompile does, in order:

1. refuse calldata shorter than a selector and unknown selectors;
2. refuse DELEGATECALL and CALLCODE (the storage would be the caller's), state changes under
   STATICCALL, and value sent to a non-payable method;
3. decode the arguments strictly (malformed calldata reverts);
4. charge the method's gas (`gas.GasRule`) **before any write** (running out of gas here burns the
   call's gas and changes nothing);
5. run the handler, which reads and writes the precompile's storage through `Call.storage`, moves
   value with `Call.pay`, emits standard logs with `Call.emit`, and reverts with `Call.revert`.

Every refusal is a Solidity `Error(string)` revert, so ethers, web3.py and Solidity callers see a
reason; every state change made by a reverted call is undone by the EVM, as for any contract.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NoReturn, TypeVar

from eth.abc import ComputationAPI, StateAPI
from eth.exceptions import Revert, VMError
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError

from openledger.genesis.types import Address
from openledger.state.precompile.abi import (
    ERROR_SELECTOR,
    Event,
    Method,
    Signature,
    build_methods,
    describe_abi,
)
from openledger.state.precompile.errors import PrecompileRevert
from openledger.state.precompile.gas import CALL_BASE_GAS, SENDER_ARGUMENT, GasRule
from openledger.state.precompile.storage import Storage

log = logging.getLogger("openledger.precompile")

ParamsT = TypeVar("ParamsT")


@dataclass
class Call:
    """What a handler sees of the call it serves."""

    computation: ComputationAPI
    address: Address
    storage: Storage = field(init=False)

    def __post_init__(self) -> None:
        self.storage = Storage(self.computation.state, self.address)

    @property
    def sender(self) -> Address:
        """`msg.sender`."""
        return Address(self.computation.msg.sender)

    @property
    def value(self) -> int:
        """`msg.value` (already credited to the precompile's balance)."""
        return int(self.computation.msg.value)

    @property
    def block_number(self) -> int:
        """Number of the block being executed."""
        return int(self.computation.state.block_number)

    @property
    def timestamp(self) -> int:
        """Timestamp of the block being executed."""
        return int(self.computation.state.timestamp)

    @property
    def state(self) -> StateAPI:
        """The EVM state (for balances)."""
        return self.computation.state

    def emit(self, event: Event, *values: Any) -> None:
        """Emit a log from the precompile's address."""
        topics, data = event.encode(values)
        self.computation.add_log_entry(self.address, tuple(topics), data)

    def pay(self, recipient: bytes, amount: int) -> None:
        """Move `amount` from the precompile's balance to `recipient`.

        The recipient's code does not run (like a withdrawal, not a CALL), so a payment cannot
        re-enter the precompile.
        """
        if amount <= 0:
            return
        balance = self.state.get_balance(self.address)
        if balance < amount:
            raise PrecompileRevert(f"precompile balance {balance} cannot pay {amount}")
        self.state.delta_balance(self.address, -amount)
        self.state.delta_balance(Address(recipient), amount)

    @staticmethod
    def revert(reason: str) -> NoReturn:
        """Revert the call with an `Error(string)` reason."""
        raise PrecompileRevert(reason)


class StatefulPrecompile:
    """A precompile at `address` that dispatches to `methods` by selector and emits `events`
    (listed for its ABI)."""

    def __init__(
        self,
        name: str,
        address: Address,
        methods: Sequence[Method],
        events: Sequence[Event] = (),
    ) -> None:
        self.name = name
        self.address = address
        self.methods = {method.selector: method for method in methods}
        if len(self.methods) != len(methods):
            raise ValueError(f"{name}: two methods share a selector")
        self.events = tuple(events)

    def __call__(self, computation: ComputationAPI) -> ComputationAPI:
        try:
            self._run(computation)
        except PrecompileRevert as refusal:
            self._revert(computation, refusal.reason)
        except VMError:
            raise  # out of gas: py-evm burns the call's gas and undoes its changes
        except Exception:
            # A bug in a handler must not stop the chain: every node hits it the same way, so
            # reverting keeps consensus, and the log tells the operator.
            log.exception("%s: internal error", self.name)
            self._revert(computation, "internal error")
        return computation

    def _revert(self, computation: ComputationAPI, reason: str) -> None:
        output = ERROR_SELECTOR + abi_encode(["string"], [f"{self.name}: {reason}"])
        computation.output = output
        raise Revert(output)

    def _run(self, computation: ComputationAPI) -> None:
        message = computation.msg
        data = bytes(message.data_as_bytes)
        if len(data) < 4:
            raise PrecompileRevert("calldata is shorter than a function selector")
        method = self.methods.get(data[:4])
        if method is None:
            raise PrecompileRevert(f"unknown function selector 0x{data[:4].hex()}")
        if message.storage_address != self.address:
            raise PrecompileRevert("DELEGATECALL and CALLCODE are refused")
        if method.writes and message.is_static:
            raise PrecompileRevert(f"{method.name} changes state and cannot run in a static call")
        if message.value and not method.payable:
            raise PrecompileRevert(f"{method.name} is not payable")
        types = [kind for _, kind in method.inputs]
        try:
            values = abi_decode(types, data[4:], strict=True)
        except (DecodingError, OverflowError, ValueError) as error:
            raise PrecompileRevert(f"malformed calldata for {method.signature}: {error}") from None
        if method.address_bytes:
            values = tuple(
                _raw_addresses(kind, value) for kind, value in zip(types, values, strict=True)
            )
        arguments = {name: value for (name, _), value in zip(method.inputs, values, strict=True)}
        call = Call(computation, self.address)
        metered = {**arguments, SENDER_ARGUMENT: call.sender}
        computation.consume_gas(
            CALL_BASE_GAS + method.gas.compute(metered, call.storage), reason=method.signature
        )
        result = method.handler(call, *values)
        if not method.outputs:
            computation.output = b""
            return
        if not isinstance(result, tuple):
            result = (result,)
        try:
            computation.output = abi_encode(list(method.outputs), list(result))
        except EncodingError as error:
            raise RuntimeError(f"{self.name}.{method.name} returned {result!r}: {error}") from error

    def abi(self) -> list[dict[str, Any]]:
        """The JSON ABI of the methods and events (compared with the shipped Solidity interface
        in tests)."""
        return describe_abi(list(self.methods.values()), self.events)


class MethodHandlers(Generic[ParamsT]):
    """The base of a precompile's handler object: it holds the chain's parameters, and each of its
    methods named in the method table is called with the `Call` and the decoded arguments."""

    def __init__(self, params: ParamsT) -> None:
        self.params = params


def declare_precompile(
    name: str,
    address: Address,
    signatures: Sequence[Signature],
    handlers: object,
    rules: Mapping[str, GasRule],
    events: Sequence[Event] = (),
) -> StatefulPrecompile:
    """A precompile declared by its method table, its handlers, its gas rules and its events."""
    return StatefulPrecompile(name, address, build_methods(signatures, handlers, rules), events)


def _raw_addresses(kind: str, value: Any) -> Any:
    if kind == "address":
        return Address(bytes.fromhex(value[2:]))
    if kind == "address[]":
        return tuple(Address(bytes.fromhex(item[2:])) for item in value)
    return value
