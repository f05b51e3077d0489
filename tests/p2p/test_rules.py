"""The small rules of the service: admission, back-off, bans, configuration bounds."""

import random

import pytest

from openledger.node.p2p.admission import compute_refusal, is_preferred_connection
from openledger.node.p2p.backoff import compute_backoff_delay
from openledger.node.p2p.bans import BanList
from openledger.node.p2p.config import TransportConfig
from openledger.node.p2p.identity import PeerId

LOW, HIGH = PeerId(b"\x02" + bytes(32)), PeerId(b"\x03" + bytes(32))
ADMIT = {
    "is_closing": False,
    "banned_for": 0.0,
    "new_dialer": LOW,
    "existing_dialer": None,
    "is_inbound": True,
    "is_bootstrap": False,
    "peer_count": 0,
    "max_peers": 2,
}


@pytest.mark.parametrize(
    ("description", "changes", "refusal"),
    [
        ("a fresh peer", {}, None),
        ("shutting down", {"is_closing": True}, "the node is shutting down"),
        ("banned", {"banned_for": 41.6}, "banned for another 42 s"),
        ("full, inbound", {"peer_count": 2}, "too many peers (2)"),
        ("full, but we dialled", {"peer_count": 2, "is_inbound": False}, None),
        ("full, but configured", {"peer_count": 2, "is_bootstrap": True}, None),
        (
            "duplicate dialled by the larger id",
            {"new_dialer": HIGH, "existing_dialer": LOW},
            "duplicate",
        ),
        ("duplicate dialled by the smaller id", {"new_dialer": LOW, "existing_dialer": HIGH}, None),
        ("the same dialler again", {"new_dialer": HIGH, "existing_dialer": HIGH}, None),
        ("a replacement is not a new peer", {"peer_count": 2, "existing_dialer": HIGH}, None),
        ("banned beats preferred", {"banned_for": 1.0, "existing_dialer": HIGH}, "banned"),
    ],
)
def test_admission(description: str, changes: dict[str, object], refusal: str | None) -> None:
    result = compute_refusal(**{**ADMIT, **changes})  # type: ignore[arg-type]
    if refusal is None:
        assert result is None, description
    else:
        assert result is not None and refusal in result, description


def test_both_ends_of_a_simultaneous_dial_keep_the_same_connection() -> None:
    # Seen from either node, "new" and "existing" are swapped; the kept connection is the same.
    assert is_preferred_connection(LOW, HIGH) is True
    assert is_preferred_connection(HIGH, LOW) is False


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    rng = random.Random(4)
    delays = [compute_backoff_delay(attempt, 0.5, 30.0, rng) for attempt in range(12)]
    for attempt, delay in enumerate(delays):
        ceiling = min(30.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert delays[-1] > 15.0
    assert compute_backoff_delay(10_000, 0.5, 30.0, rng) <= 30.0
    again = random.Random(4)
    assert [compute_backoff_delay(n, 0.5, 30.0, again) for n in range(12)] == delays
    assert len(set(delays[8:])) == 4  # Capped delays still differ: the jitter de-synchronises.


def test_a_ban_lasts_its_time_and_a_longer_ban_wins() -> None:
    now = [100.0]
    bans = BanList(lambda: now[0])
    bans.ban(LOW, 10)
    bans.ban(LOW, 5)  # Does not shorten the ban.
    bans.ban(HIGH, 0)  # No ban at all.
    assert bans.get_remaining(LOW) == 10 and bans.get_remaining(HIGH) == 0
    now[0] = 109.5
    assert bans.get_remaining(LOW) == 0.5
    now[0] = 110.0
    assert bans.get_remaining(LOW) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_frame_size": 16}, "max_frame_size"),
        ({"max_frame_size": 2**32}, "max_frame_size"),
        ({"max_queue_messages": 0}, "queue"),
        ({"ping_interval": 0}, "ping_interval"),
        ({"ping_interval": 5.0, "peer_timeout": 5.0}, "longer than ping_interval"),
        ({"dial_backoff_initial": 2.0, "dial_backoff_max": 1.0}, "dial_backoff_max"),
    ],
)
def test_config_refuses_nonsense(changes: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TransportConfig(**changes)  # type: ignore[arg-type]
