"""Stateful precompiles: native contracts that keep their state in their own EVM storage.

A precompile is a table of methods, each a Solidity-ABI function: its selector, argument and
result types, whether it writes state or accepts value, its gas rule, and a handler. Calling the
precompile does, in order:

1. refuse calldata shorter than a selector and unknown selectors;
2. refuse DELEGATECALL and CALLCODE (the storage would be the caller's), state changes under
   STATICCALL, and value sent to a non-payable method;
3. decode the arguments strictly (malformed calldata reverts);
4. charge the method's gas, computed from the decoded arguments and, where a method's work depends
   on stored data (a list's length, a string about to be overwritten), from counts read from
   storage, **before any write** (running out of gas here burns the call's gas and changes
   nothing);
5. run the handler, which reads and writes the precompile's storage through `Storage`, moves value
   with `Call.pay`, emits standard logs with `Call.emit`, and reverts with `Call.revert`.

Every refusal is a Solidity `Error(string)` revert, so ethers, web3.py and Solidity callers see a
reason; every state change made by a reverted call is undone by the EVM, as for any contract.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from eth.abc import ComputationAPI, StateAPI
from eth.exceptions import Revert, VMError
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_hash.auto import keccak

from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.types import Address

log = logging.getLogger("openledger.precompile")

ERROR_SELECTOR = keccak(b"Error(string)")[:4]

SLOT_WRITE_GAS = 20_000
"""Gas per storage slot a method may write (a fresh SSTORE)."""
SLOT_READ_GAS = 2_100
"""Gas per storage slot read (a cold SLOAD)."""
LOG_GAS = 375
"""Gas of one log, as LOG0 charges it."""
LOG_TOPIC_GAS = 375
"""Gas per log topic."""
LOG_DATA_GAS = 8
"""Gas per byte of log data."""
WORD_BYTES = 32
"""Bytes in a storage slot, an ABI word and a Keccak input word."""
CALL_BASE_GAS = 2_600
"""Fixed gas of entering any method (dispatch, decoding)."""


class PrecompileRevert(OpenLedgerError):
    """Raised by a handler to revert with an `Error(string)` reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def compute_log_gas(topics: int, data_bytes: int) -> int:
    """Gas of one log, as the LOG opcodes charge it."""
    return LOG_GAS + LOG_TOPIC_GAS * topics + LOG_DATA_GAS * data_bytes


def compute_word_count(data: bytes | str) -> int:
    """32-byte storage words needed for `data` (what `Storage.set_bytes` writes)."""
    length = len(data.encode() if isinstance(data, str) else data)
    return 1 + (length + 31) // 32


def compute_chunk_count(data: bytes | str) -> int:
    """32-byte words needed for the content of `data`, rounded up (ABI padding, storage chunks
    after the length slot)."""
    return (len(_as_bytes(data)) + WORD_BYTES - 1) // WORD_BYTES


StoredCount = Callable[["Storage", Mapping[str, Any]], int]
"""Counts items a method will work through that stored data decides (a list's length, the words
of a string it overwrites), from the precompile's storage and the decoded arguments. It only
reads: it runs before gas is charged."""


@dataclass(frozen=True, slots=True)
class GasRule:
    """A method's gas, known before it writes anything:

    `base + per_item * items + per_byte * bytes + per_word * words + per_stored_item * stored`

    `items` is the length of the array argument named `item_arg`; `bytes` the total length of the
    string and bytes arguments named in `byte_args`, and `words` the sum of their lengths in
    32-byte words, each rounded up (what storing or logging them costs). `stored` is what
    `stored_items` counts in storage, for work that stored data decides. The base covers the
    fixed storage writes, reads and logs of the method.
    """

    base: int
    """Gas of the method whatever its arguments."""
    per_item: int = 0
    """Gas per element of the array argument `item_arg`."""
    per_byte: int = 0
    """Gas per byte of the `byte_args` arguments."""
    item_arg: str | None = None
    """Name of the array argument counted as items."""
    byte_args: tuple[str, ...] = ()
    """Names of the string or bytes arguments counted as bytes and as words."""
    per_word: int = 0
    """Gas per 32-byte word (rounded up, per argument) of the `byte_args` arguments."""
    per_stored_item: int = 0
    """Gas per item counted by `stored_items`."""
    stored_items: StoredCount | None = None
    """Counts, from storage, the items charged `per_stored_item`; None when none are."""

    def compute(self, arguments: Mapping[str, Any], storage: "Storage | None" = None) -> int:
        """The gas for these decoded arguments (and this storage, when `stored_items` is set)."""
        items = len(arguments[self.item_arg]) if self.item_arg else 0
        values = [_as_bytes(arguments[name]) for name in self.byte_args]
        size = sum(len(value) for value in values)
        words = sum(compute_chunk_count(value) for value in values)
        gas = self.base + self.per_item * items + self.per_byte * size + self.per_word * words
        if self.stored_items is not None:
            if storage is None:
                raise TypeError("this gas rule counts stored items: pass the storage")
            gas += self.per_stored_item * self.stored_items(storage, arguments)
        return gas


@dataclass(frozen=True, slots=True)
class Event:
    """A Solidity event the precompile emits."""

    name: str
    """Event name."""
    inputs: tuple[tuple[str, str, bool], ...]
    """(name, ABI type, indexed) per parameter."""

    @property
    def signature(self) -> str:
        """Canonical signature, e.g. `Transfer(address,address,uint256)`."""
        return f"{self.name}({','.join(kind for _, kind, _ in self.inputs)})"

    @property
    def topic(self) -> bytes:
        """topic0: the Keccak hash of the signature."""
        return keccak(self.signature.encode())

    def compute_log_gas(self, dynamic_words: int = 0) -> int:
        """Gas of one emission whose dynamic (string, bytes, array) values hold `dynamic_words`
        32-byte words of content in all; each dynamic value also carries an offset and a length
        word, counted here."""
        topics = 1 + sum(indexed for _, _, indexed in self.inputs)
        words = sum(
            2 if _is_dynamic(kind) else 1 for _, kind, indexed in self.inputs if not indexed
        )
        return compute_log_gas(topics, WORD_BYTES * (words + dynamic_words))

    def encode(self, values: Sequence[Any]) -> tuple[list[int], bytes]:
        """(topics, data) of one emission."""
        topics = [int.from_bytes(self.topic, "big")]
        data_types, data_values = [], []
        for (_, kind, indexed), value in zip(self.inputs, values, strict=True):
            if indexed:
                topics.append(int.from_bytes(_compute_topic(kind, value), "big"))
            else:
                data_types.append(kind)
                data_values.append(value)
        return topics, abi_encode(data_types, data_values)


@dataclass(frozen=True, slots=True)
class Method:
    """One ABI function of a precompile."""

    name: str
    """Function name."""
    inputs: tuple[tuple[str, str], ...]
    """(name, ABI type) per argument."""
    outputs: tuple[str, ...]
    """ABI types of the results."""
    handler: Callable[..., Any]
    """Called with the `Call` and the decoded arguments; returns the results (a tuple, one value,
    or None)."""
    gas: GasRule
    """Gas charged before the handler runs."""
    writes: bool = True
    """False for view methods: they may run under STATICCALL."""
    payable: bool = False
    """True when the method accepts value."""
    address_bytes: bool = False
    """True to pass `address` and `address[]` arguments to the handler as 20 raw bytes (as
    `Storage` keys and `Call.pay` want them) rather than eth-abi's checksummed strings."""

    @property
    def signature(self) -> str:
        """Canonical signature, e.g. `claim()`."""
        return f"{self.name}({','.join(kind for _, kind in self.inputs)})"

    @property
    def selector(self) -> bytes:
        """The 4-byte selector."""
        return keccak(self.signature.encode())[:4]


class Storage:
    """Typed access to the 32-byte storage slots of one address.

    Keys are derived by hashing a name with its keys (`slot("datanet.owner", id)`), so values of
    different kinds cannot collide. Byte strings use a length slot followed by their 32-byte
    chunks at `keccak(slot) + i`, as Solidity lays out `bytes`.
    """

    def __init__(self, state: StateAPI, address: Address) -> None:
        self.state = state
        self.address = address

    @staticmethod
    def slot(name: str, *keys: int | bytes | str) -> int:
        """The slot of `name` at `keys`."""
        parts = [name.encode()]
        for key in keys:
            if isinstance(key, int):
                parts.append(key.to_bytes(32, "big"))
            elif isinstance(key, str):
                parts.append(keccak(key.encode()))
            else:
                parts.append(keccak(key))
        return int.from_bytes(keccak(b"\x00".join(parts)), "big")

    def get(self, slot: int) -> int:
        """The word at `slot`."""
        return int(self.state.get_storage(self.address, slot))

    def set(self, slot: int, value: int) -> None:
        """Write a word."""
        self.state.set_storage(self.address, slot, value)

    def add(self, slot: int, delta: int) -> int:
        """Add `delta` to a word; returns the new value. Refuses to go below zero."""
        value = self.get(slot) + delta
        if value < 0 or value >= 2**256:
            raise PrecompileRevert("arithmetic out of range")
        self.set(slot, value)
        return value

    def get_address(self, slot: int) -> Address:
        """A word read as an address."""
        return Address(self.get(slot).to_bytes(32, "big")[12:])

    def set_address(self, slot: int, address: bytes) -> None:
        """Write an address."""
        self.set(slot, int.from_bytes(address, "big"))

    def get_bytes(self, slot: int) -> bytes:
        """A byte string written by `set_bytes`."""
        length = self.get(slot)
        base = int.from_bytes(keccak(slot.to_bytes(32, "big")), "big")
        chunks = [
            self.get(base + index).to_bytes(32, "big") for index in range((length + 31) // 32)
        ]
        return b"".join(chunks)[:length]

    def set_bytes(self, slot: int, data: bytes) -> None:
        """Write a byte string: its length at `slot`, its chunks after `keccak(slot)`."""
        old_length = self.get(slot)
        self.set(slot, len(data))
        base = int.from_bytes(keccak(slot.to_bytes(32, "big")), "big")
        for index in range(max((len(data) + 31) // 32, (old_length + 31) // 32)):
            chunk = data[index * 32 : index * 32 + 32]
            self.set(base + index, int.from_bytes(chunk.ljust(32, b"\x00"), "big"))

    def get_string(self, slot: int) -> str:
        """A string written by `set_string`."""
        return self.get_bytes(slot).decode(errors="replace")

    def set_string(self, slot: int, text: str) -> None:
        """Write a UTF-8 string."""
        self.set_bytes(slot, text.encode())


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
        computation.consume_gas(
            CALL_BASE_GAS + method.gas.compute(arguments, call.storage), reason=method.signature
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
        functions = [
            {
                "type": "function",
                "name": method.name,
                "inputs": [{"name": name, "type": kind} for name, kind in method.inputs],
                "outputs": [{"name": "", "type": kind} for kind in method.outputs],
                "stateMutability": "payable"
                if method.payable
                else ("nonpayable" if method.writes else "view"),
            }
            for method in self.methods.values()
        ]
        events = [
            {
                "type": "event",
                "name": event.name,
                "inputs": [
                    {"name": name, "type": kind, "indexed": indexed}
                    for name, kind, indexed in event.inputs
                ],
                "anonymous": False,
            }
            for event in self.events
        ]
        return functions + events


def _is_dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("[]")


def _raw_addresses(kind: str, value: Any) -> Any:
    if kind == "address":
        return Address(bytes.fromhex(value[2:]))
    if kind == "address[]":
        return tuple(Address(bytes.fromhex(item[2:])) for item in value)
    return value


def _compute_topic(kind: str, value: Any) -> bytes:
    """The topic of an indexed event parameter: static values are their 32-byte ABI word;
    `string` and `bytes` are the hash of their content (Solidity's rule for indexed dynamic
    values). Indexed arrays and tuples are not used by any precompile and are refused."""
    if kind == "string":
        return keccak(value.encode() if isinstance(value, str) else bytes(value))
    if kind == "bytes":
        return keccak(bytes(value))
    if kind.endswith("]") or kind.startswith("("):
        raise TypeError(f"indexed {kind} event parameters are not supported")
    return abi_encode([kind], [value])


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise TypeError(f"gas byte argument must be a string or bytes, not {type(value).__name__}")
