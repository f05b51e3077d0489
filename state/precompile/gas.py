"""Gas rules of precompile methods: the EVM costs they are built from and `GasRule`, a method's
gas computed from its decoded arguments (and from stored counts) before it writes anything."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openledger.state.precompile.storage import Storage

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


SENDER_ARGUMENT = "msg.sender"
"""The key under which the arguments a `StoredCount` sees also hold the caller (no ABI name has a
dot, so it cannot clash), for work that depends on the caller's own records."""

StoredCount = Callable[["Storage", Mapping[str, Any]], int]
"""Counts items a method will work through that stored data decides (a list's length, the words
of a string it overwrites), from the precompile's storage and the decoded arguments (with the
caller at `SENDER_ARGUMENT`). It only reads: it runs before gas is charged."""


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


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise TypeError(f"gas byte argument must be a string or bytes, not {type(value).__name__}")
