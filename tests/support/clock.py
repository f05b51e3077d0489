"""Test time: a fake clock that moves only when told, and timers on it.

Time is in integer milliseconds, so delays drawn from a seeded generator add up exactly and a test
reads "advance(250)" the way a timeline is written. `ManualScheduler` is the consensus host's
`node.timers.Scheduler` on a `FakeClock`.
"""

import heapq
import itertools
from collections.abc import Callable

from openledger.node.timers import TimerHandle


class FakeClock:
    """Milliseconds that pass only through `advance()`."""

    def __init__(self, start_ms: int = 0) -> None:
        self._now_ms = start_ms

    def now(self) -> int:
        """The current time in milliseconds."""
        return self._now_ms

    def advance(self, ms: int) -> None:
        """Moves time forward by `ms` milliseconds (never backwards)."""
        if ms < 0:
            raise ValueError(f"a clock cannot go back ({ms} ms)")
        self._now_ms += ms


class _ManualTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """Timers on a `FakeClock`: callbacks run when the test advances the clock past them."""

    def __init__(self, clock: FakeClock, epoch_seconds: float = 1_700_000_000.0) -> None:
        self.clock = clock
        self.epoch_seconds = epoch_seconds
        self._timers: list[tuple[int, int, _ManualTimer, Callable[[], None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.epoch_seconds + self.clock.now() / 1000

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        timer = _ManualTimer()
        heapq.heappush(
            self._timers, (self.clock.now() + max(0, delay_ms), next(self._order), timer, callback)
        )
        return timer

    def next_due_ms(self) -> int | None:
        """Fake time of the next live timer, or None."""
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def fire_due(self) -> int:
        """Run every timer due at the current fake time; returns how many ran."""
        fired = 0
        while self._timers and self._timers[0][0] <= self.clock.now():
            _, _, timer, callback = heapq.heappop(self._timers)
            if not timer.cancelled:
                callback()
                fired += 1
        return fired
