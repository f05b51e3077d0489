"""`--metrics`: Prometheus text with the node's height, pool, block and RPC figures."""

import urllib.request
from pathlib import Path

from helpers import DEV_ADDRESSES, ThreadedNode, result, wait_for


def _scrape(node: ThreadedNode) -> dict[str, float]:
    assert node.node is not None and node.node.metrics_server is not None
    port = wait_for(lambda: node.node.metrics_server.bound_port, what="the metrics port")  # type: ignore[union-attr]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_follow_the_chain_and_the_rpc(tmp_path: Path) -> None:
    node = ThreadedNode(tmp_path / "node", metrics_address=("127.0.0.1", 0)).start()
    try:
        before = _scrape(node)
        assert before["openledger_chain_height"] == 0
        tx = result(
            node.url,
            "eth_sendTransaction",
            [{"from": DEV_ADDRESSES[0], "to": DEV_ADDRESSES[1], "value": "0x1"}],
        )
        wait_for(lambda: result(node.url, "eth_getTransactionReceipt", [tx]), what="the receipt")
        after = _scrape(node)
        assert after["openledger_chain_height"] == 1
        assert after["openledger_chain_finalized_height"] == 1
        assert after["openledger_chain_block_transactions_count"] == 1
        assert after['openledger_txpool_transactions{state="pending"}'] == 0
        assert (
            after['openledger_rpc_requests_total{method="eth_sendTransaction",outcome="ok"}'] == 1
        )
        assert (
            after['openledger_rpc_request_seconds_count{method="eth_getTransactionReceipt"}'] >= 1
        )
        for name in ("openledger_p2p_peers", "openledger_consensus_rounds_per_height_count"):
            assert any(key.startswith(name) for key in after), name
    finally:
        node.stop()
