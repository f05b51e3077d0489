"""Whether a freshly authenticated peer may hold a session with us: the admission rules.

Pure functions over the facts the service knows, so each rule is tested alone:

- a banned peer is refused until its ban ends;
- one session per peer id: when two nodes dial each other at once, both keep the connection
  dialled by the smaller peer id (bytes order) and refuse the other; when a peer dials again while
  an older session it dialled is still open, the newer connection wins (the older one is almost
  certainly dead: the peer would not redial a live session). Both sides apply the same rule to the
  same two connections, so they agree without talking about it;
- inbound sessions beyond `max_peers` are refused, except from configured (bootstrap) peers, so
  validators listed in each other's configuration always get through.
"""

from openledger.node.p2p.identity import PeerId


def compute_refusal(
    *,
    is_closing: bool,
    banned_for: float,
    new_dialer: PeerId,
    existing_dialer: PeerId | None,
    is_inbound: bool,
    is_bootstrap: bool,
    peer_count: int,
    max_peers: int,
) -> str | None:
    """Why a new session must be refused (told to the peer and logged), or None to admit it.

    `new_dialer` / `existing_dialer` are the ids of whoever opened the new connection and the one
    already established with the same peer (None if there is none); `peer_count` counts
    established sessions.
    """
    if is_closing:
        return "the node is shutting down"
    if banned_for > 0:
        return f"banned for another {banned_for:.0f} s"
    if existing_dialer is not None:
        if is_preferred_connection(new_dialer, existing_dialer):
            return None
        return "duplicate connection; keeping the one dialled by the smaller peer id"
    if is_inbound and not is_bootstrap and peer_count >= max_peers:
        return f"too many peers ({max_peers})"
    return None


def is_preferred_connection(new_dialer: PeerId, existing_dialer: PeerId) -> bool:
    """Whether a new connection to a peer replaces the one already established with it."""
    if new_dialer == existing_dialer:
        return True
    return new_dialer < existing_dialer
