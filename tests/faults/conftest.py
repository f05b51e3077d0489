"""Fixtures of the fault matrix: a devnet of real processes in network namespaces, torn down
(processes, namespaces, bridge) whatever the test did; and one summary line per scenario."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from faults.cluster import LabDevnet
from faults.netlab import NetLab, lab_unavailable

RECOVERIES: list[tuple[str, str, float]] = []
"""(test, what, seconds) of every measured return to liveness, for the closing summary."""


@pytest.fixture
def lab_devnet(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., LabDevnet]]:
    """Build (and start) a devnet in a fresh lab: `lab_devnet(before_start=callback)`."""
    reason = lab_unavailable()
    if reason is not None:
        pytest.skip(reason)
    built: list[tuple[NetLab, LabDevnet | None]] = []

    def build(before_start: Callable[[LabDevnet], Any] | None = None) -> LabDevnet:
        lab = NetLab(size=5).open()
        built.append((lab, None))
        devnet = LabDevnet(tmp_path / "devnet", lab)
        built[-1] = (lab, devnet)
        if before_start is not None:
            before_start(devnet)
        devnet.start()
        return devnet

    try:
        yield build
    finally:
        for lab, devnet in built:
            try:
                if devnet is not None:
                    devnet.close()
                    RECOVERIES.extend((request.node.name, what, s) for what, s in devnet.recoveries)
            finally:
                lab.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RECOVERIES:
        terminalreporter.section("fault matrix: time back to liveness")
        for test, what, seconds in RECOVERIES:
            terminalreporter.write_line(f"{test}: {what}: {seconds:.1f} s")
