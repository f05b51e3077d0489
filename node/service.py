"""The composition root: a running node and the services it starts.

`Node` wires the store, the chain, the block producer and the RPC server, and is what the RPC
server sees as `NodeAPI`. `run()` starts every service under one `asyncio.TaskGroup`; cancelling
it (SIGINT, SIGTERM) stops them all, and the database is closed last, in `finally`.
"""

import asyncio
import logging
import platform
import sys
from collections.abc import Awaitable, Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from eth.abc import BlockHeaderAPI

from openledger.genesis.types import Address, ChainId, Hash32, Wei
from openledger.node.chain import NodeChain
from openledger.node.chainspec import build_vm_class
from openledger.node.dev import DevChainSpec, DevProducer, prepare_dev_chain
from openledger.node.mempool import Mempool
from openledger.node.sealing import SoloSealer
from openledger.rpc.api import SyncStatus
from openledger.rpc.server import RpcConfig, RpcServer
from openledger.state.execute import Chain
from openledger.state.store import ChainStore

log = logging.getLogger("openledger.node")

DEV_CHAIN_ID = ChainId(1337)


def client_version() -> str:
    """`web3_clientVersion`: name/version/platform/runtime, as geth formats it."""
    try:
        ours = version("openledger")
    except PackageNotFoundError:
        ours = "0.0.0"
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return f"OpenLedger/v{ours}/{platform.system().lower()}-{platform.machine()}/{runtime}"


class Node:
    """A running node: what the RPC server talks to, and the services behind it."""

    def __init__(
        self,
        node_chain: NodeChain,
        rpc_config: RpcConfig,
        *,
        dev: DevProducer | None = None,
        validator: Address | None = None,
        on_ready: Callable[["Node"], Awaitable[None] | None] | None = None,
    ) -> None:
        self.node_chain = node_chain
        self.rpc_config = rpc_config
        self.dev = dev
        self.validator = validator
        self.client_version = client_version()
        self.rpc = RpcServer(self, rpc_config)
        self._on_ready = on_ready

    # --- NodeAPI --------------------------------------------------------------------------------

    @property
    def chain(self) -> Chain:
        return self.node_chain.chain

    @property
    def store(self) -> ChainStore:
        return self.node_chain.store

    @property
    def pool(self) -> Mempool:
        return self.node_chain.mempool

    def submit_transaction(self, raw: bytes) -> Hash32:
        return self.node_chain.submit_transaction(raw)

    def pending_nonce(self, address: Address) -> int:
        return self.node_chain.pending_nonce(address)

    def next_base_fee(self) -> Wei:
        return self.node_chain.next_base_fee()

    def peer_count(self) -> int:
        return 0

    def sync_status(self) -> SyncStatus | None:
        return None

    def on_block(self, listener: Callable[[BlockHeaderAPI], None]) -> None:
        self.node_chain.on_block(listener)

    def on_pending_transaction(self, listener: Callable[[Hash32], None]) -> None:
        self.node_chain.on_pending_transaction(listener)

    def consensus_status(self) -> Mapping[str, Any]:
        return {"validator": self.validator, "height": self.store.head.block_number}

    # --- lifecycle ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Run every service until cancelled; close the database on the way out."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.rpc.run())
                if self.dev is not None:
                    group.create_task(self.dev.run())
                group.create_task(self._announce_ready())
        finally:
            self.store.close()
            log.info("stopped; database closed")

    async def _announce_ready(self) -> None:
        await self.rpc.ready.wait()
        if self._on_ready is not None:
            result = self._on_ready(self)
            if result is not None:
                await result


def open_dev_node(
    datadir: Path,
    rpc_config: RpcConfig,
    *,
    chain_id: ChainId = DEV_CHAIN_ID,
    accounts: int = 10,
    block_time: float = 0.0,
    allow_unprotected: bool = False,
    on_ready: Callable[[Node], Awaitable[None] | None] | None = None,
) -> tuple[Node, DevChainSpec]:
    """A dev node on `datadir` (created on first use), ready to `run()`."""
    spec = prepare_dev_chain(datadir, chain_id, accounts, block_time)
    vm_class = build_vm_class(spec.genesis)
    store = ChainStore.open(datadir / "chaindata", spec.genesis, vm_class)
    chain = NodeChain(
        store, Chain(vm_class, spec.genesis.chain_id), allow_unprotected=allow_unprotected
    )
    sealer = SoloSealer(spec.validator_key, spec.genesis.chain_id)
    producer = DevProducer(chain, sealer, spec.accounts, block_time=block_time)
    node = Node(chain, rpc_config, dev=producer, validator=sealer.address, on_ready=on_ready)
    return node, spec
