"""The explorer page in headless Chromium against a real `openledger dev` process, after the
Datanet story (`story.py`); the browser side is `tests/js/explorer.test.mjs`.

Screenshots of every view land in `tests/output/explorer/` (or `$EXPLORER_SCREENSHOTS`); the test
prints where."""

import json
import shutil
import signal
from pathlib import Path

import pytest
import story
from browser_env import SCREENSHOTS, chromium
from helpers import run_js_suite, start_node_process, wait_for

pytestmark = pytest.mark.slow


@pytest.mark.timeout(300)
def test_explorer_in_a_browser(tmp_path: Path) -> None:
    browser = chromium()
    screenshots = SCREENSHOTS
    shutil.rmtree(screenshots, ignore_errors=True)
    screenshots.mkdir(parents=True)
    node = start_node_process(["dev", "--datadir", str(tmp_path / "chain")], tmp_path / "node.log")
    try:
        wait_for(lambda: f"Explorer:          {node.url}/explorer/" in node.log(), what="banner")
        expected = story.tell(node.url, tmp_path)
        run_js_suite(
            "explorer.test.mjs",
            node.url,
            STORY=json.dumps(expected),
            SCREENSHOTS=str(screenshots),
            CHROMIUM=browser,
        )
    finally:
        assert node.stop(signal.SIGTERM) == 0, node.log()
    shots = sorted(path.name for path in screenshots.glob("*.png"))
    assert len(shots) >= 14, shots
    assert "Traceback" not in node.log(), node.log()
