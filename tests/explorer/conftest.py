"""Where the explorer's browser tests left their screenshots, said at the end of the run."""

from typing import Any

from browser_env import SCREENSHOTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    shots = sorted(SCREENSHOTS.glob("*.png")) if SCREENSHOTS.is_dir() else []
    ran = any(
        "tests/explorer/" in getattr(report, "nodeid", "")
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", "call") == "call"
    )
    if shots and ran:
        terminalreporter.write_line(f"explorer screenshots ({len(shots)} views): {SCREENSHOTS}")
