"""The explorer on a real four-validator devnet (`openledger devnet`): the RPC node serves it,
the validators do not, and its network view shows every validator and each commit's signers
(browser side: `tests/js/explorer-network.test.mjs`)."""

import http.client
import json
from pathlib import Path

import pytest
from browser_env import SCREENSHOTS, chromium
from helpers import result, run_js_suite, wait_for
from process.test_devnet import _cli

from openledger.node import devnet as devnet_lib

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def _page_status(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("GET", "/explorer/")
    status = connection.getresponse().status
    connection.close()
    return status


def test_explorer_on_a_devnet(tmp_path: Path) -> None:
    browser = chromium()
    screenshots = SCREENSHOTS
    screenshots.mkdir(parents=True, exist_ok=True)
    directory = tmp_path / "devnet"
    base = devnet_lib.find_free_port_base(10)
    _cli("devnet", "init", "--out", str(directory), "--lightkdf",
         "--p2p-base-port", str(base), "--rpc-base-port", str(base + 5))  # fmt: skip
    network = devnet_lib.Devnet.load(directory)
    rpc_node = network.node("rpc1")
    url = f"http://127.0.0.1:{rpc_node.rpc_port}"
    try:
        _cli("devnet", "up", str(directory))
        wait_for(lambda: int(result(url, "eth_blockNumber"), 16) >= 3, timeout=90, what="blocks")
        validators = [node for node in network.nodes if node.role == "validator"]
        assert len(validators) == 4
        assert _page_status(rpc_node.rpc_port) == 200
        for node in validators:
            assert _page_status(node.rpc_port) in (404, 405), f"{node.name} serves the page"
        run_js_suite(
            "explorer-network.test.mjs",
            url,
            VALIDATORS=json.dumps([node.address for node in validators]),
            SCREENSHOTS=str(screenshots),
            CHROMIUM=browser,
        )
    finally:
        _cli("devnet", "down", str(directory))
