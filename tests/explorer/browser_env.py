"""What the explorer's browser tests need from the machine: Chromium and a screenshot folder."""

import os
import shutil
from pathlib import Path

from helpers import REPO

SCREENSHOTS = Path(os.environ.get("EXPLORER_SCREENSHOTS", REPO / "tests" / "output" / "explorer"))
"""The folder the browser tests write a PNG of each view into."""


def chromium() -> str:
    """The system's Chromium (`$CHROMIUM` or `chromium` on PATH); fails the test without one."""
    browser = os.environ.get("CHROMIUM") or shutil.which("chromium")
    assert browser, "no Chromium: install Debian's chromium package (tests/run.sh does as root)"
    return browser
