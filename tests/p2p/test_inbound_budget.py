"""Strangers that declare large frames and stall: the bytes buffered for them are bounded across
all peers together, a stalled frame ends its session, and its sender is banned for a while.

Real services and raw peers on 127.0.0.1 (see `harness.py`), with the frame limit, the budget and
the frame timeout shrunk so the test runs in seconds.
"""

import asyncio
from dataclasses import replace

from .harness import FAST_CONFIG, KIND, Cluster, make_key, wait_until

FRAME = 256 * 1024
BUDGET = 2 * FRAME
CONFIG = replace(
    FAST_CONFIG,
    max_frame_size=FRAME,
    max_inbound_bytes=BUDGET,
    frame_timeout=1.5,
    misbehaviour_ban=30.0,
    peer_timeout=10.0,
)


def _stalled_frame() -> bytes:
    """A frame header declaring `FRAME` bytes and all of its body but the last byte."""
    return FRAME.to_bytes(4, "big") + b"\x00" * (FRAME - 1)


async def test_stalled_frames_of_many_peers_buffer_no_more_than_the_budget(
    cluster: Cluster,
) -> None:
    a = await cluster.start(make_key(1), config=CONFIG)
    strangers = [await cluster.connect_raw(a, make_key(10 + i)) for i in range(6)]
    await wait_until(lambda: len(a.service.peers()) == 6, "the six sessions")
    budget = a.service._inbound_budget

    await asyncio.gather(*(stranger.write(_stalled_frame()) for stranger in strangers))
    await wait_until(lambda: budget.reserved == BUDGET, "the budget to fill")
    for _ in range(10):  # while they stall, the others wait for room instead of buffering
        assert budget.reserved <= BUDGET
        await asyncio.sleep(0.05)

    closed = await asyncio.gather(*(s.wait_closed_by_remote(timeout=10) for s in strangers))
    assert all(closed)
    await wait_until(lambda: len(a.recorder.disconnected) == 6, "every disconnect")
    reasons = [reason for _, reason in a.recorder.disconnected]
    stalled = [reason for reason in reasons if "did not send it in 1.5 s" in reason]
    starved = [reason for reason in reasons if "no room to receive a frame" in reason]
    assert len(stalled) >= 2, reasons  # the two that held the budget
    assert len(stalled) + len(starved) == 6, reasons
    assert budget.reserved == 0

    honest = await cluster.connect_raw(a, make_key(99))
    await honest.send(KIND, b"x" * (FRAME - 64))
    await wait_until(lambda: a.recorder.payloads_from(honest.peer_id), "the honest frame")


async def test_a_peer_that_stalls_a_frame_is_banned(cluster: Cluster) -> None:
    a = await cluster.start(make_key(1), config=CONFIG)
    key = make_key(2)
    stranger = await cluster.connect_raw(a, key)
    await stranger.write(FRAME.to_bytes(4, "big") + b"\x00" * 1000)

    assert await stranger.wait_closed_by_remote(timeout=10)
    await wait_until(lambda: a.recorder.disconnected, "the disconnect")
    assert "misbehaving peer" in a.recorder.reasons()

    again = await cluster.connect_raw(a, key, welcome=False)
    kind, payload = await again.receive()
    assert b"banned for another" in payload, (kind, payload)
    assert await again.wait_closed_by_remote()
    assert a.service.peers() == []
