"""Gossip de-duplication: remembering which messages we already saw.

A gossiped message arrives once from each peer that relays it; the node re-broadcasts it only the
first time. `SeenCache` remembers the most recent message ids (an LRU of bounded size, so memory
stays flat however long the node runs). It is generic: it neither knows message kinds nor relays.
"""

from collections import OrderedDict

from eth_hash.auto import keccak

from openledger.genesis.types import Hash32

DEFAULT_SEEN_CAPACITY = 65536
"""Message ids remembered by default: several minutes of traffic on a busy validator set."""


def compute_message_id(kind: int, payload: bytes) -> Hash32:
    """`keccak256(kind byte ++ payload)`: the same message relayed by anyone has the same id."""
    if not 0 <= kind <= 255:
        raise ValueError(f"message kind {kind} is not a byte")
    return Hash32(keccak(bytes((kind,)) + payload))


class SeenCache:
    """A bounded set of recently seen message ids; the least recently seen is forgotten first."""

    def __init__(self, capacity: int = DEFAULT_SEEN_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be positive, not {capacity}")
        self._capacity = capacity
        self._ids: OrderedDict[bytes, None] = OrderedDict()

    def is_new(self, message_id: bytes) -> bool:
        """True the first time an id is seen (and remembers it); False while it is remembered."""
        if message_id in self._ids:
            # Seeing it again keeps it fresh: a message still being relayed stays remembered.
            self._ids.move_to_end(message_id)
            return False
        self._ids[message_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True

    def __contains__(self, message_id: object) -> bool:
        """Whether the id is remembered, without refreshing it."""
        return message_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)
