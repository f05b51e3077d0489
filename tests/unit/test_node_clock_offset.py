"""The test-only wall-clock offset of a running node (`OPENLEDGER_CLOCK_OFFSET`)."""

import logging
import time

import pytest

from openledger.genesis.errors import OpenLedgerError
from openledger.node.timers import CLOCK_OFFSET_ENV, LoopScheduler


def test_without_the_variable_the_clock_is_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CLOCK_OFFSET_ENV, raising=False)
    assert abs(LoopScheduler().now() - time.time()) < 1


def test_the_offset_moves_the_clock_and_is_announced(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(CLOCK_OFFSET_ENV, "-40.5")
    with caplog.at_level(logging.WARNING, logger="openledger.node"):
        scheduler = LoopScheduler()
    assert abs(scheduler.now() - (time.time() - 40.5)) < 1
    assert "wall clock moved by -40.5 s" in caplog.text


@pytest.mark.parametrize("text", ["soon", "nan", "inf", "1e9"])
def test_a_bad_offset_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(CLOCK_OFFSET_ENV, text)
    with pytest.raises(OpenLedgerError, match=CLOCK_OFFSET_ENV):
        LoopScheduler()
