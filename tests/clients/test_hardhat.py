"""A real Hardhat 2 project (tests/hardhat, installed from its lockfile) against a dev node:
`npx hardhat test --network openledger` compiles the token with the project's solc-js and runs
its mocha tests (impersonation, `hardhat_setBalance`, `evm_snapshot`/`evm_revert`, `evm_mine`)."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from helpers import REPO, ThreadedNode

pytestmark = pytest.mark.slow

HARDHAT_DIR = REPO / "tests" / "hardhat"


def test_hardhat_test_runs_against_the_dev_node(dev_node: ThreadedNode, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "OPENLEDGER_RPC_URL": dev_node.url,
        "HARDHAT_OUT_DIR": str(tmp_path / "build"),
        # CI=true turns off Hardhat's analytics, prompts and banners; its global folders (a
        # telemetry consent, downloaded compilers) are the test's own, so none of a user's apply.
        "CI": "true",
        "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "NO_COLOR": "1",
    }
    completed = subprocess.run(
        ["npx", "--no", "hardhat", "test", "--network", "openledger"],
        cwd=HARDHAT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    cases = sum(
        len(re.findall(r"^\s*it\(", path.read_text(), re.MULTILINE))
        for path in (HARDHAT_DIR / "test").glob("*.js")
    )
    assert cases >= 3
    assert re.search(rf"^\s*{cases} passing", output, re.MULTILINE), output
    assert not re.search(r"\d+ (failing|pending)", output), output
    assert "Compiled 1 Solidity file" in output, output
    # The compiler was the project's solc-js: Hardhat downloaded none into its cache.
    assert not list(home.rglob("compilers*")), sorted(home.rglob("*"))
