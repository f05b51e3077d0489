"""Settings and bookkeeping of the fuzzers.

Every fuzzer runs `EXAMPLES` inputs per test (a few seconds to a minute); a soak run raises it:
`OPENLEDGER_FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest tests/fuzz`. Each fuzzer counts the
inputs it tried, the crashes (an answer or exception the contract forbids) and the hangs (no
answer within the deadline), and the session ends with one summary line per fuzzer.
"""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("OPENLEDGER_FUZZ_EXAMPLES", "300"))
"""Inputs per fuzz test."""

settings.register_profile(
    "fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
    print_blob=True,
)  # fmt: skip
FUZZ = settings.get_profile("fuzz")


@dataclass
class Tally:
    """What one fuzzer did."""

    inputs: int = 0
    crashes: int = 0
    hangs: int = 0
    accepted: int = 0
    """Inputs the code under test accepted as valid (where that is worth knowing)."""


TALLIES: dict[str, Tally] = {}


def tally(name: str) -> Tally:
    """The tally of fuzzer `name` (created on first use)."""
    return TALLIES.setdefault(name, Tally())


@contextmanager
def counted(name: str) -> Iterator[Tally]:
    """Count one input of fuzzer `name`: a timeout as a hang, any other failure as a crash."""
    counts = tally(name)
    counts.inputs += 1
    try:
        yield counts
    except TimeoutError:  # socket.timeout is TimeoutError
        counts.hangs += 1
        raise
    except BaseException:
        counts.crashes += 1
        raise


class ErrorLog(logging.Handler):
    """Collects ERROR records and any record with a traceback from the node's loggers."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records)


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    """ERROR records and tracebacks of the node's and aiohttp's loggers during the test."""
    handler = ErrorLog()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in ("openledger", "aiohttp")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TALLIES:
        terminalreporter.section(f"fuzzers ({EXAMPLES} examples per test)")
        for name, counts in sorted(TALLIES.items()):
            accepted = f", {counts.accepted} accepted" if counts.accepted else ""
            terminalreporter.write_line(
                f"{name}: {counts.inputs} inputs, {counts.crashes} crashes, {counts.hangs} hangs"
                + accepted
            )
