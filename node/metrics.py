"""Prometheus metrics of a node (`--metrics`), served at `http://ADDR:PORT/metrics`.

| metric | type | what |
| --- | --- | --- |
| `openledger_chain_height` | gauge | number of the head block |
| `openledger_chain_finalized_height` | gauge | number of the latest final block (the head: finality is instant) |
| `openledger_chain_block_interval_seconds` | histogram | time between consecutive committed blocks (by their timestamps) |
| `openledger_chain_block_transactions` | histogram | transactions per committed block |
| `openledger_consensus_round` | gauge | current round of the height being decided |
| `openledger_consensus_rounds_per_height` | histogram | rounds a height took (1 = decided in its first round) |
| `openledger_consensus_votes_total` | counter | votes received, by kind |
| `openledger_p2p_peers` | gauge | connected peers |
| `openledger_txpool_transactions` | gauge | transactions in the pool, by state (pending, queued) |
| `openledger_sync_highest_block` | gauge | highest head a peer announced |
| `openledger_rpc_requests_total` | counter | JSON-RPC requests, by method and outcome |
| `openledger_rpc_request_seconds` | histogram | JSON-RPC latency, by method |

Each node has its own registry (several nodes can share a process in tests); values that are
cheap to read are computed at scrape time, the rest are updated by the node as events happen.
"""

import asyncio
import logging
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger("openledger.metrics")


class NodeMetrics:
    """The metrics of one node."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.height = Gauge("openledger_chain_height", "Number of the head block", registry=r)
        self.finalized_height = Gauge(
            "openledger_chain_finalized_height", "Number of the latest final block", registry=r
        )
        self.block_interval = Histogram(
            "openledger_chain_block_interval_seconds", "Seconds between consecutive blocks",
            buckets=(0.5, 1, 1.5, 2, 3, 5, 10, 30, 60), registry=r,
        )  # fmt: skip
        self.block_transactions = Histogram(
            "openledger_chain_block_transactions", "Transactions per committed block",
            buckets=(0, 1, 5, 10, 50, 100, 500, 1000), registry=r,
        )  # fmt: skip
        self.round = Gauge("openledger_consensus_round", "Current consensus round", registry=r)
        self.rounds_per_height = Histogram(
            "openledger_consensus_rounds_per_height", "Rounds a height took to decide",
            buckets=(1, 2, 3, 5, 10, 20), registry=r,
        )  # fmt: skip
        self.votes = Counter("openledger_consensus_votes", "Votes received", ["kind"], registry=r)
        self.peers = Gauge("openledger_p2p_peers", "Connected peers", registry=r)
        self.txpool = Gauge(
            "openledger_txpool_transactions", "Pool transactions", ["state"], registry=r
        )
        self.sync_highest = Gauge("openledger_sync_highest_block", "Highest peer head", registry=r)
        self.rpc_requests = Counter(
            "openledger_rpc_requests", "JSON-RPC requests", ["method", "outcome"], registry=r
        )
        self.rpc_seconds = Histogram(
            "openledger_rpc_request_seconds", "JSON-RPC request latency", ["method"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5), registry=r,
        )  # fmt: skip
        self._last_timestamp: int | None = None

    def on_block(self, number: int, timestamp: int, transactions: int, round: int) -> None:
        """A block was committed."""
        self.height.set(number)
        self.finalized_height.set(number)
        if self._last_timestamp is not None:
            self.block_interval.observe(max(0, timestamp - self._last_timestamp))
        self._last_timestamp = timestamp
        self.block_transactions.observe(transactions)
        self.rounds_per_height.observe(round + 1)

    def on_rpc(self, method: str, seconds: float, ok: bool) -> None:
        """A JSON-RPC request finished (the dispatcher's observer)."""
        self.rpc_requests.labels(method, "ok" if ok else "error").inc()
        self.rpc_seconds.labels(method).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return bytes(generate_latest(self.registry))


class MetricsServer:
    """Serves `/metrics` on its own port until cancelled."""

    def __init__(self, metrics: NodeMetrics, host: str, port: int, refresh: Any = None) -> None:
        self.metrics = metrics
        self.host = host
        self.port = port
        self._refresh = refresh
        self.bound_port: int | None = None

    async def run(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
            await site.start()
            sockets = site._server.sockets if site._server is not None else []  # type: ignore[attr-defined]
            self.bound_port = int(sockets[0].getsockname()[1]) if sockets else self.port
            log.info("metrics on http://%s:%d/metrics", self.host, self.bound_port)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        if self._refresh is not None:
            self._refresh()
        return web.Response(
            body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
