"""A fake clock for deterministic tests of anything that waits: it moves only when told.

Time is in integer milliseconds, so delays drawn from a seeded generator add up exactly and a test
reads "advance(250)" the way a timeline is written.
"""


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
