"""ethers v6 (from tests/js, installed from its lockfile) against a real dev node."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import CONTRACTS, JS_DIR, ThreadedNode, compile_solidity

pytestmark = pytest.mark.slow


def test_ethers_suite(dev_node: ThreadedNode, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts.json"
    artifacts.write_text(json.dumps(compile_solidity(CONTRACTS / "Token.sol")))
    completed = subprocess.run(
        ["node", "--test", "--test-reporter=spec", "ethers.test.mjs"],
        cwd=JS_DIR,
        env={**os.environ, "RPC_URL": dev_node.url, "ARTIFACTS": str(artifacts)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "fail 0" in completed.stdout, completed.stdout
