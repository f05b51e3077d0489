"""Which peers we refuse for a while, and until when.

The node bans a peer that sent invalid data; the ban holds for inbound and outbound connections
alike. Time comes from a monotonic clock passed in, so tests need not sleep.
"""

from collections.abc import Callable

from openledger.node.p2p.identity import PeerId


class BanList:
    """Peer ids refused until a deadline on a monotonic clock."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._until: dict[PeerId, float] = {}

    def ban(self, peer_id: PeerId, seconds: float) -> None:
        """Refuses `peer_id` for `seconds` from now; a longer ban already in force is kept."""
        if seconds <= 0:
            return
        until = self._monotonic() + seconds
        self._until[peer_id] = max(until, self._until.get(peer_id, until))

    def get_remaining(self, peer_id: PeerId) -> float:
        """Seconds left on `peer_id`'s ban, 0.0 if it is not banned."""
        until = self._until.get(peer_id)
        if until is None:
            return 0.0
        remaining = until - self._monotonic()
        if remaining <= 0:
            # Expired bans are forgotten on read, so the table holds only live bans.
            del self._until[peer_id]
            return 0.0
        return remaining
