"""The Solidity ABI of a precompile: its methods, its events, and the method table a precompile
module declares once, in the order of its Solidity interface.

A method table lists (name, inputs, outputs, mutability) per function; `build_methods` turns it
into `Method`s whose handler is the handler object's attribute of the same name and whose gas is
the rule of that name.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from openledger.state.precompile.gas import WORD_BYTES, GasRule, compute_log_gas

ERROR_SELECTOR = keccak(b"Error(string)")[:4]
"""The selector of Solidity's `Error(string)`, which every refusal reverts with."""

Signature = tuple[str, tuple[tuple[str, str], ...], tuple[str, ...], str]
"""(name, ((argument, ABI type), ...), (result ABI type, ...), "view" | "nonpayable" | "payable")"""


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


def build_methods(
    signatures: Sequence[Signature], handlers: object, rules: Mapping[str, GasRule]
) -> list[Method]:
    """The methods of `signatures`, served by `handlers`, charged by `rules`; addresses reach the
    handlers as 20 raw bytes."""
    return [
        Method(
            name,
            inputs,
            outputs,
            getattr(handlers, name),
            rules[name],
            writes=mutability != "view",
            payable=mutability == "payable",
            address_bytes=True,
        )
        for name, inputs, outputs, mutability in signatures
    ]


def hex_address(address: bytes) -> str:
    """An address as `0x`-prefixed hex, for reasons."""
    return "0x" + address.hex()


def describe_abi(methods: Sequence[Method], events: Sequence[Event]) -> list[dict[str, Any]]:
    """The JSON ABI of `methods` and `events`, as solc writes it."""
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
        for method in methods
    ]
    described = [
        {
            "type": "event",
            "name": event.name,
            "inputs": [
                {"name": name, "type": kind, "indexed": indexed}
                for name, kind, indexed in event.inputs
            ],
            "anonymous": False,
        }
        for event in events
    ]
    return functions + described


def _is_dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("[]")


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
