"""A tiny run of `bench/attribution.py`, so that the benchmark keeps working (no speed asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO


@pytest.mark.slow  # a real process building a real index
def test_the_attribution_benchmark_runs_and_finds_the_planted_copies(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    command = [sys.executable, str(REPO / "bench" / "attribution.py"), "--contributions", "120",
               "--contributors", "10", "--bytes", "200000", "--outputs", "30", "--json", str(out)]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(out.read_text())
    assert report["self_check_failures"] == 0
    assert report["pairs"]["expected"] > 20
    assert report["precision"] == 1.0 and report["recall"] == 1.0
    assert report["false_credit"] == 0.0
