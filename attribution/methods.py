"""From an ABI table and a handler object to the framework's `Method`s.

Each precompile module lists its functions once, in the order of its Solidity interface, as
(name, inputs, outputs, mutability); the handler of a function is the handler object's attribute
of the same name, and its gas rule is `attribution.gas`'s entry of that name.
"""

from collections.abc import Mapping, Sequence

from openledger.state.precompile import GasRule, Method

Signature = tuple[str, tuple[tuple[str, str], ...], tuple[str, ...], str]
"""(name, ((argument, ABI type), ...), (result ABI type, ...), "view" | "nonpayable" | "payable")"""


def build_methods(
    signatures: Sequence[Signature], handlers: object, rules: Mapping[str, GasRule]
) -> list[Method]:
    """The methods of `signatures`, served by `handlers`, charged by `rules`."""
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
