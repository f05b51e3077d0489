"""The tunable bounds of the TCP transport, with the defaults production uses.

Tests shrink the timers (keep-alive, back-off) and the queues to exercise them in milliseconds;
nothing else should need to change them.
"""

from dataclasses import dataclass

from openledger.node.p2p.framing import MAX_FRAME_SIZE, MIN_FRAME_SIZE
from openledger.node.p2p.handshake import HANDSHAKE_TIMEOUT


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """Bounds and timers of `P2PService`; every field has a production default."""

    handshake_timeout: float = HANDSHAKE_TIMEOUT
    """Seconds allowed to connect, complete the handshake and exchange the welcome."""
    max_frame_size: int = MAX_FRAME_SIZE
    """Largest frame ciphertext we accept or send; larger declared frames close the connection."""
    max_queue_messages: int = 1024
    """Messages that may wait to be sent to one peer; one more and the peer is dropped as slow."""
    max_queue_bytes: int = 32 * 1024 * 1024
    """Payload bytes that may wait to be sent to one peer; more and the peer is dropped as slow."""
    ping_interval: float = 10.0
    """Seconds between keep-alive pings on each session."""
    peer_timeout: float = 30.0
    """Seconds without any frame from a peer after which it is considered dead and dropped."""
    dial_backoff_initial: float = 0.5
    """Seconds before the first redial of a configured peer (before jitter)."""
    dial_backoff_max: float = 30.0
    """Cap of the exponential redial back-off."""
    max_pending_handshakes: int = 64
    """Inbound connections that may be in their handshake at once; more are closed at once."""
    close_grace: float = 1.0
    """Seconds a closing session may spend flushing its goodbye before the socket is aborted."""
    max_inbound_bytes: int = 64 * 1024 * 1024
    """Bytes of frame bodies being received from all peers together; a frame that finds no room
    within `frame_timeout` closes its session (see `budget.py`)."""
    frame_timeout: float = 20.0
    """Seconds a peer has to send a frame's body once it declared the frame's length."""
    misbehaviour_ban: float = 60.0
    """Seconds a peer that sent a bad or stalled frame is refused (inbound and outbound)."""

    def __post_init__(self) -> None:
        if not MIN_FRAME_SIZE <= self.max_frame_size < 2**32:
            raise ValueError(
                f"max_frame_size must be in {MIN_FRAME_SIZE}..{2**32 - 1}, not {self.max_frame_size}"
            )
        if self.max_queue_messages < 1 or self.max_queue_bytes < 1:
            raise ValueError("the outbound queue bounds must be positive")
        if self.max_inbound_bytes < 1 or self.misbehaviour_ban < 0:
            raise ValueError("max_inbound_bytes must be positive and misbehaviour_ban not negative")
        if self.max_pending_handshakes < 1:
            raise ValueError("max_pending_handshakes must be positive")
        positive_timers = {
            "handshake_timeout": self.handshake_timeout,
            "ping_interval": self.ping_interval,
            "peer_timeout": self.peer_timeout,
            "dial_backoff_initial": self.dial_backoff_initial,
            "close_grace": self.close_grace,
            "frame_timeout": self.frame_timeout,
        }
        for name, seconds in positive_timers.items():
            if seconds <= 0:
                raise ValueError(f"{name} must be positive, not {seconds}")
        if self.dial_backoff_max < self.dial_backoff_initial:
            raise ValueError("dial_backoff_max must be at least dial_backoff_initial")
        if self.peer_timeout <= self.ping_interval:
            # Otherwise a healthy but idle peer would be dropped between two pings.
            raise ValueError("peer_timeout must be longer than ping_interval")
