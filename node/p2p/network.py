"""The contract between the node and any transport: the `Network` protocol and its values.

The node is written against `Network` and the three callbacks; `P2PService` (TCP) and
`MemoryTransport` (deterministic, in `tests/support/memory.py`) both satisfy it, so a multi-validator test runs the
same node code as production. Payloads are opaque here: the transport carries `(kind, payload)`
and never looks inside.

Message kinds 0..15 are reserved for the transport itself (keep-alive, session control) and never
reach `on_message`; the node's kinds are 16..255.
"""

import enum
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from openledger.node.p2p.errors import MessageTooLarge
from openledger.node.p2p.identity import PeerId

MIN_APPLICATION_KIND = 16
"""The smallest message kind the node may use; smaller kinds belong to the transport."""

MAX_APPLICATION_KIND = 255
"""The largest message kind (it travels as one byte)."""

OnMessage = Callable[[PeerId, int, bytes], None]
"""Called with `(peer_id, kind, payload)` for each message a peer sent, on the event loop."""

OnPeerConnected = Callable[[PeerId], None]
"""Called with the peer id once a session is established; messages from it may follow."""

OnPeerDisconnected = Callable[[PeerId, str], None]
"""Called with the peer id and a reason once its session ended; no message of it follows."""


class Direction(enum.Enum):
    """Which side opened a connection."""

    INBOUND = "inbound"
    """The remote dialled us."""
    OUTBOUND = "outbound"
    """We dialled the remote."""


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """A snapshot of one connected peer, for `peers()`, logs and metrics."""

    peer_id: PeerId
    """The peer's proven compressed public key."""
    remote_address: tuple[str, int]
    """The remote end of the connection, `(host, port)`."""
    local_address: tuple[str, int]
    """Our end of the connection, `(host, port)`."""
    direction: Direction
    """Whether we dialled the peer or it dialled us."""
    connected_since: float
    """When the session was established, in seconds since the Unix epoch."""
    bytes_in: int
    """Bytes received on this session, frame headers and tags included."""
    bytes_out: int
    """Bytes sent on this session, frame headers and tags included."""
    listen_port: int
    """The port the peer announced for dialling it back (0 if it does not listen)."""


class Network(Protocol):
    """What the node asks of a transport. All methods are synchronous and never block."""

    @property
    def local_peer_id(self) -> PeerId:
        """Our own peer id."""
        ...

    def broadcast(
        self, kind: int, payload: bytes, exclude: PeerId | Collection[PeerId] | None = None
    ) -> int:
        """Queues a message to every connected peer but `exclude`; returns how many."""
        ...

    def send(self, peer_id: PeerId, kind: int, payload: bytes) -> bool:
        """Queues a message to one peer; False if it is not connected (or was just dropped)."""
        ...

    def disconnect(self, peer_id: PeerId, reason: str, ban_seconds: float = 0.0) -> None:
        """Closes the session with a peer and refuses it for `ban_seconds`."""
        ...

    def peers(self) -> list[PeerInfo]:
        """The peers connected now."""
        ...


def validate_application_message(kind: int, payload: bytes, max_payload_size: int) -> None:
    """Refuses a kind the node may not use, or a payload too large for one frame."""
    if not MIN_APPLICATION_KIND <= kind <= MAX_APPLICATION_KIND:
        raise ValueError(
            f"message kind {kind} is outside {MIN_APPLICATION_KIND}..{MAX_APPLICATION_KIND}; "
            "kinds below 16 are reserved for the transport"
        )
    if len(payload) > max_payload_size:
        raise MessageTooLarge(len(payload), max_payload_size)


def compute_excluded(exclude: PeerId | Collection[PeerId] | None) -> frozenset[PeerId]:
    """Normalises `broadcast`'s `exclude`, which may be one peer id or several."""
    if exclude is None:
        return frozenset()
    if isinstance(exclude, bytes):
        # A single id is itself a collection (of ints); treating it as one would exclude no one.
        return frozenset((PeerId(exclude),))
    return frozenset(exclude)
