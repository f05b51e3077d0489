"""The bytes of frame bodies the node receives from all peers at once, bounded together.

A peer may declare a frame of up to the frame limit (16 MiB) and then send it slowly or not at
all; without a shared bound, every session that does so holds that much memory (40 strangers took
a validator from 109 MB to 765 MB). Each session reserves a declared body's size here before it
reads the body and gives it back once the frame is read or the session ends, so all sessions
together never buffer more than the budget. A frame always fits when nothing else is reserved,
so the largest legal frame is never refused for its size alone.
"""

import asyncio

from openledger.node.p2p.errors import P2PError


class InboundBudgetExhausted(P2PError):
    """No room in the shared inbound budget for a frame within the time allowed."""


class InboundBudget:
    """Bytes reserved for frame bodies being received, across every session."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"the inbound budget must be positive, not {limit}")
        self.limit = limit
        self.reserved = 0
        self._released = asyncio.Event()

    async def reserve(self, size: int) -> None:
        """Waits until `size` bytes fit, then reserves them (the caller bounds the wait)."""
        while self.reserved and self.reserved + size > self.limit:
            self._released.clear()
            await self._released.wait()
        self.reserved += size

    def release(self, size: int) -> None:
        """Gives back bytes reserved by `reserve`."""
        self.reserved -= size
        self._released.set()
