"""Time for the consensus host: the clock it reads and the timers it arms.

The host never calls `time` or `asyncio` timers directly; it gets a `Scheduler`. In a running node
that is `LoopScheduler` (the event loop and the wall clock); the in-process multi-validator tests
pass one whose time moves only when the test says so (`tests/support/clock.py`), which makes a run
of several validators deterministic and fast.

`OPENLEDGER_CLOCK_OFFSET` (seconds, test use only) moves a running node's wall clock, so that the
fault tests can run one validator of a devnet with a skewed clock (libfaketime cannot: under it
CPython's thread hand-offs slow down sixtyfold and `time.sleep` fails).
"""

import asyncio
import logging
import math
import os
import time
from collections.abc import Callable
from typing import Protocol

from openledger.genesis.errors import OpenLedgerError

CLOCK_OFFSET_ENV = "OPENLEDGER_CLOCK_OFFSET"
"""Environment variable with seconds added to the node's wall clock (fault tests only)."""

log = logging.getLogger("openledger.node")


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
    """The wall clock (moved by `offset` seconds) and the running event loop's timers."""

    def __init__(self, offset: float | None = None) -> None:
        self.offset = read_clock_offset() if offset is None else offset
        if self.offset:
            log.warning(
                "wall clock moved by %+g s (%s): test use only", self.offset, CLOCK_OFFSET_ENV
            )

    def now(self) -> float:
        return time.time() + self.offset

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(delay_ms / 1000, callback)


def read_clock_offset() -> float:
    """The seconds of `OPENLEDGER_CLOCK_OFFSET`, 0 when unset."""
    text = os.environ.get(CLOCK_OFFSET_ENV, "").strip()
    if not text:
        return 0.0
    try:
        offset = float(text)
    except ValueError:
        offset = math.nan
    if not math.isfinite(offset) or abs(offset) > 86_400:
        raise OpenLedgerError(
            f"{CLOCK_OFFSET_ENV}={text!r} is not a number of seconds within a day"
        )
    return offset
