"""Where the explorer's browser tests left their screenshots, said at the end of the run."""

from typing import Any

from browser_env import SCREENSHOTS

BROWSER_TESTS = ("test_explorer_browser.py", "test_explorer_devnet.py")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    shots = sorted(SCREENSHOTS.glob("*.png")) if SCREENSHOTS.is_dir() else []
    ran = any(
        any(name in report.nodeid for name in BROWSER_TESTS)
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
    )
    if shots and ran:
        terminalreporter.write_line(f"explorer screenshots ({len(shots)} views): {SCREENSHOTS}")
