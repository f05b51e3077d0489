"""Time for the consensus host: the clock it reads and the timers it arms.

The host never calls `time` or `asyncio` timers directly; it gets a `Scheduler`. In a running node
that is `LoopScheduler` (the event loop and the wall clock); the in-process multi-validator tests
pass one whose time moves only when the test says so (`tests/support/clock.py`), which makes a run
of several validators deterministic and fast.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    """An armed timer."""

    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """A clock and timers."""

    def now(self) -> float:
        """Seconds since the Unix epoch (block timestamps come from here)."""
        ...

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        """Run `callback` after `delay_ms` milliseconds."""
        ...


class LoopScheduler:
    """The wall clock and the running event loop's timers."""

    def now(self) -> float:
        return time.time()

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(delay_ms / 1000, callback)
