"""Where a precompile keeps its state: the 32-byte slots of its own address, named by fields.

A `Field` is a named family of slots, one per tuple of keys:

    slot(name, k1, k2, ...) = keccak256(name || 0x00 || enc(k1) || 0x00 || enc(k2) ...)

where `enc` of an integer is its 32-byte big-endian form and `enc` of a byte string (an address as
20 raw bytes, a hash as 32) or a text is its Keccak-256 hash, so values of different kinds cannot
collide. Byte strings use a length slot followed by their 32-byte chunks at `keccak(slot) + i`, as
Solidity lays out `bytes`.

`Storage` is the slots of one address in the EVM state; `DictWords` the same slots in a
dictionary, for laying out a precompile's genesis storage. `FieldWords` reads and writes fields
over either; each precompile's records class extends it with its own packed values.
"""

from dataclasses import dataclass
from typing import Protocol

from eth.abc import StateAPI
from eth_hash.auto import keccak

from openledger.genesis.types import Address
from openledger.state.precompile.errors import PrecompileRevert

Key = int | bytes
"""A field key: an integer (an id, an index) or a byte string (an address, a hash)."""


class Words(Protocol):
    """32-byte words addressed by slot: `Storage`, or `DictWords` at genesis."""

    def get(self, slot: int) -> int: ...

    def set(self, slot: int, value: int) -> None: ...


class Storage:
    """Typed access to the 32-byte storage slots of one address."""

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


class DictWords:
    """Storage words in a dictionary: how genesis lays out a precompile's slots."""

    def __init__(self) -> None:
        self.slots: dict[int, int] = {}

    def get(self, slot: int) -> int:
        return self.slots.get(slot, 0)

    def set(self, slot: int, value: int) -> None:
        self.slots[slot] = value

    def items(self) -> tuple[tuple[int, int], ...]:
        """The non-zero slots, sorted by slot (the genesis `storage` form)."""
        return tuple(sorted((slot, value) for slot, value in self.slots.items() if value))


@dataclass(frozen=True, slots=True)
class Field:
    """A named family of storage slots, one per tuple of keys."""

    name: str
    """Hashed with the keys into the slot number."""

    def slot(self, *keys: Key) -> int:
        """The slot of this field at `keys`."""
        return Storage.slot(self.name, *keys)


class FieldWords:
    """Typed reads and writes of fields over `words` (zero where never written)."""

    __slots__ = ("words",)

    def __init__(self, words: Words) -> None:
        self.words = words

    def get(self, field: Field, *keys: Key) -> int:
        """The word of `field` at `keys`."""
        return self.words.get(field.slot(*keys))

    def set(self, field: Field, *keys: Key, to: int) -> None:
        """Write the word of `field` at `keys`."""
        self.words.set(field.slot(*keys), to)

    def get_address(self, field: Field, *keys: Key) -> Address:
        """The word read as an address."""
        return Address(self.get(field, *keys).to_bytes(32, "big")[12:])

    def set_address(self, field: Field, *keys: Key, to: bytes) -> None:
        """Write an address."""
        self.set(field, *keys, to=int.from_bytes(to, "big"))

    def get_hash(self, field: Field, *keys: Key) -> bytes:
        """The word as 32 bytes."""
        return self.get(field, *keys).to_bytes(32, "big")

    def set_hash(self, field: Field, *keys: Key, to: bytes) -> None:
        """Write 32 bytes."""
        self.set(field, *keys, to=int.from_bytes(to, "big"))
