"""A short run of `bench/soak.py` (2 minutes, a validator restarted every 40 s), so that the soak
benchmark keeps working: it must find every invariant holding. No speed or memory figure is
asserted; those are for the full run (bench/README.md)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO


@pytest.mark.slow  # five real node processes for about three minutes
@pytest.mark.timeout(600)
def test_a_short_soak_keeps_every_invariant(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    command = [sys.executable, str(REPO / "bench" / "soak.py"), "--minutes", "2",
               "--restart-every", "40", "--bound", "40", "--sample-every", "10",
               "--warmup", "10", "--workdir", str(tmp_path), "--json", str(out)]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=540, check=False)
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-4000:]
    report = json.loads(out.read_text())
    assert report["failures"] == []
    # Two restarts (at 40 s and 80 s), one SIGKILL and one SIGTERM, each back and signing.
    assert [(r["node"], r["signal"]) for r in report["restarts"]] == [
        ("validator1", "SIGKILL"),
        ("validator2", "SIGTERM"),
    ]
    assert all(r["signing"] is not None for r in report["restarts"])
    # Every kind of load ran and was receipted, and the logs were read both ways.
    load = report["load"]
    assert all(load["receipted"][kind] > 0 for kind in ("transfer", "contract", "precompile"))
    assert load["get_logs"] > 0 and load["eth_calls"] > 0
    assert report["logs"]["expected"] > 0
    assert report["chain"]["last"] > 10 and report["chain"]["disagreements"] == []
    # Every node was sampled, and the restarted ones were seen down or as a new process.
    nodes = {"validator1", "validator2", "validator3", "validator4", "rpc1"}
    assert {sample["node"] for sample in report["samples"]} == nodes
    pids = {s["pid"] for s in report["samples"] if s["node"] == "validator1" and s["pid"]}
    assert len(pids) == 2
