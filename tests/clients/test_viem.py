"""viem (from tests/js, installed from its lockfile) against a real dev node: `simulateCalls`,
which wallets and dapps use to preview transactions, runs on `eth_simulateV1`."""

import json
from pathlib import Path

import pytest
from helpers import CONTRACTS, ThreadedNode, compile_solidity, run_js_suite

pytestmark = pytest.mark.slow


def test_viem_suite(dev_node: ThreadedNode, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts.json"
    artifacts.write_text(json.dumps(compile_solidity(CONTRACTS / "Token.sol")))
    run_js_suite("viem.test.mjs", dev_node.url, ARTIFACTS=str(artifacts))
