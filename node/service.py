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
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from eth.abc import BlockHeaderAPI

from openledger.consensus.chain_rules import ValidatorSource
from openledger.consensus.events import TimeoutConfig
from openledger.consensus.messages import CommitCertificate
from openledger.consensus.validators import ValidatorSet
from openledger.genesis.model import Genesis
from openledger.genesis.types import Address, BlockNumber, ChainId, Hash32, Wei
from openledger.node.chain import NodeChain
from openledger.node.chainspec import build_genesis, build_vm_class
from openledger.node.consensus_host import ConsensusHost
from openledger.node.dev import DevChainSpec, DevProducer, prepare_dev_chain
from openledger.node.evidence import EvidenceReporter
from openledger.node.mempool import DEV_POOL_LIMITS, Mempool
from openledger.node.metrics import MetricsServer, NodeMetrics
from openledger.node.p2p.identity import load_or_create_node_key, parse_peer_address
from openledger.node.p2p.service import P2PService
from openledger.node.safety import SafeSigner
from openledger.node.sealing import SoloSealer
from openledger.node.timers import LoopScheduler
from openledger.node.validator_sets import StakingValidators
from openledger.rpc.api import CommitView, SyncStatus
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
    """A running node: what the RPC server talks to, and the services behind it.

    A dev node runs the dev producer; a validator or full node runs the p2p transport and the
    consensus host. Either way the chain has exactly one writer.
    """

    def __init__(
        self,
        node_chain: NodeChain,
        rpc_config: RpcConfig,
        validators: ValidatorSource,
        *,
        dev: DevProducer | None = None,
        consensus: ConsensusHost | None = None,
        network: P2PService | None = None,
        validator: Address | None = None,
        on_ready: Callable[["Node"], Awaitable[None] | None] | None = None,
        metrics_address: tuple[str, int] | None = None,
    ) -> None:
        self.node_chain = node_chain
        self.rpc_config = rpc_config
        self.validators = validators
        self.dev = dev
        self.consensus = consensus
        self.network = network
        self.validator = validator
        self.client_version = client_version()
        self.metrics = NodeMetrics() if metrics_address is not None else None
        self.metrics_server = (
            MetricsServer(self.metrics, *metrics_address, refresh=self._refresh_metrics)
            if self.metrics is not None and metrics_address is not None
            else None
        )
        self.rpc = RpcServer(
            self, rpc_config, observer=self.metrics.on_rpc if self.metrics else None
        )
        if self.metrics is not None:
            node_chain.on_block(self._record_block)
            if consensus is not None:
                consensus.metrics = self.metrics
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
        return len(self.network.peers()) if self.network is not None else 0

    def sync_status(self) -> SyncStatus | None:
        progress = self.consensus.sync.progress() if self.consensus is not None else None
        return SyncStatus(*progress) if progress is not None else None

    def on_block(self, listener: Callable[[BlockHeaderAPI], None]) -> None:
        self.node_chain.on_block(listener)

    def on_pending_transaction(self, listener: Callable[[Hash32], None]) -> None:
        self.node_chain.on_pending_transaction(listener)

    def consensus_status(self) -> Mapping[str, Any]:
        if self.consensus is not None:
            return self.consensus.describe()
        return {
            "validator": self.validator,
            "height": self.store.head.block_number + 1,
            "mode": "dev",
        }

    def commit_certificate(self, height: int) -> CommitView | None:
        encoded = self.store.get_commit(height)
        if encoded is None:
            return None
        certificate = CommitCertificate.decode(encoded)
        return CommitView(
            height=certificate.height,
            round=certificate.round,
            block_hash=certificate.block_hash,
            hash=certificate.hash(),
            precommits=tuple((vote.validator, vote.signature) for vote in certificate.precommits),
            encoded=encoded,
        )

    def validator_set(self, height: int) -> ValidatorSet:
        return self.validators.for_height(BlockNumber(height))

    def node_info(self) -> Mapping[str, Any]:
        info: dict[str, Any] = {
            "clientVersion": self.client_version,
            "chainId": self.chain.chain_id,
            "genesisHash": self.store.genesis_hash,
            "validator": self.validator,
            "mode": "dev" if self.dev is not None else ("validator" if self.validator else "full"),
        }
        if self.network is not None:
            info["peerId"] = self.network.local_peer_id
            info["listenAddress"] = str(self.network.listen_address)
            info["peers"] = [
                {
                    "peerId": peer.peer_id,
                    "address": peer.remote_address,
                    "direction": peer.direction.value,
                }
                for peer in self.network.peers()
            ]
        return info

    # --- metrics --------------------------------------------------------------------------------

    def _record_block(self, header: BlockHeaderAPI) -> None:
        if self.metrics is None:
            return
        encoded = self.store.get_commit(header.block_number)
        round = CommitCertificate.decode(encoded).round if encoded else 0
        transactions = len(self.store.get_transactions(header))
        self.metrics.on_block(header.block_number, header.timestamp, transactions, round)

    def _refresh_metrics(self) -> None:
        """Values read at scrape time."""
        metrics = self.metrics
        if metrics is None:
            return
        head = self.store.head.block_number
        metrics.height.set(head)
        metrics.finalized_height.set(head)
        metrics.peers.set(self.peer_count())
        pending, queued = self.pool.pending_and_queued()
        metrics.txpool.labels("pending").set(sum(len(txs) for txs in pending.values()))
        metrics.txpool.labels("queued").set(sum(len(txs) for txs in queued.values()))
        if self.consensus is not None:
            state = self.consensus.state
            metrics.round.set(state.round if state is not None else 0)
            metrics.sync_highest.set(max(self.consensus.sync.highest_known, head))

    # --- lifecycle ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Run every service until cancelled; close the database on the way out."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.rpc.run())
                if self.dev is not None:
                    group.create_task(self.dev.run())
                if self.network is not None:
                    group.create_task(self.network.run())
                if self.consensus is not None:
                    group.create_task(self.consensus.run())
                if self.metrics_server is not None:
                    group.create_task(self.metrics_server.run())
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
    metrics_address: tuple[str, int] | None = None,
) -> tuple[Node, DevChainSpec]:
    """A dev node on `datadir` (created on first use), ready to `run()`."""
    spec = prepare_dev_chain(datadir, chain_id, accounts, block_time)
    vm_class = build_vm_class(spec.genesis)
    store = ChainStore.open(datadir / "chaindata", build_genesis(spec.genesis), vm_class)
    chain = NodeChain(
        store, Chain(vm_class, spec.genesis.chain_id), Mempool(DEV_POOL_LIMITS),
        allow_unprotected=allow_unprotected,
    )  # fmt: skip
    sealer = SoloSealer(spec.validator_key, spec.genesis.chain_id)
    producer = DevProducer(chain, sealer, spec.accounts, block_time=block_time)
    node = Node(
        chain, rpc_config, StakingValidators(store, spec.genesis.openledger.staking),
        dev=producer, validator=sealer.address, on_ready=on_ready, metrics_address=metrics_address,
    )  # fmt: skip
    return node, spec


@dataclass(frozen=True, slots=True)
class NetworkOptions:
    """How a validator or full node joins its network."""

    listen_host: str = "0.0.0.0"
    """Address the p2p transport listens on."""
    listen_port: int = 30303
    """p2p port."""
    peers: tuple[str, ...] = ()
    """Peers to dial, as `<compressed key hex>@host:port`."""
    node_key_path: Path | None = None
    """The node key file (created if missing); default `DATADIR/nodekey`."""


def open_network_node(
    datadir: Path,
    genesis: Genesis,
    rpc_config: RpcConfig,
    network_options: NetworkOptions,
    *,
    validator_key: bytes | None = None,
    allow_unprotected: bool = False,
    on_ready: Callable[[Node], Awaitable[None] | None] | None = None,
    metrics_address: tuple[str, int] | None = None,
) -> Node:
    """A validator (with `validator_key`) or full node on `datadir`, ready to `run()`."""
    vm_class = build_vm_class(genesis)
    store = ChainStore.open(datadir / "chaindata", build_genesis(genesis), vm_class)
    try:
        chain = NodeChain(
            store, Chain(vm_class, genesis.chain_id), allow_unprotected=allow_unprotected
        )
        node_key = load_or_create_node_key(network_options.node_key_path or datadir / "nodekey")
        validators = StakingValidators(store, genesis.openledger.staking)
        signer = SafeSigner(store.db, validator_key, genesis.chain_id) if validator_key else None
        # The transport needs the host's callbacks and the host needs the transport: the lambdas
        # bind the host once it exists.
        callbacks: dict[str, Any] = {}
        network = P2PService(
            node_key, genesis.chain_id, store.genesis_hash,
            network_options.listen_host, network_options.listen_port,
            [parse_peer_address(peer) for peer in network_options.peers],
            on_message=lambda peer, kind, payload: callbacks["host"].on_message(peer, kind, payload),  # noqa: PLW0108
            on_peer_connected=lambda peer: callbacks["host"].on_peer_connected(peer),  # noqa: PLW0108
            on_peer_disconnected=lambda peer, reason: callbacks["host"].on_peer_disconnected(peer, reason),  # noqa: PLW0108
        )  # fmt: skip
        reporter = EvidenceReporter(chain, validator_key) if validator_key else None
        host = ConsensusHost(
            chain, network, validators, LoopScheduler(), compute_timeouts(genesis),
            store.genesis_hash, signer=signer, on_equivocation=reporter.report if reporter else None,
        )  # fmt: skip
        callbacks["host"] = host
    except BaseException:
        store.close()
        raise
    return Node(
        chain, rpc_config, validators, consensus=host, network=network,
        validator=signer.address if signer else None, on_ready=on_ready,
        metrics_address=metrics_address,
    )  # fmt: skip


def compute_timeouts(genesis: Genesis) -> TimeoutConfig:
    """The consensus timeouts every validator of `genesis` uses."""
    params = genesis.openledger.consensus
    return TimeoutConfig(
        propose_ms=params.timeout_propose_ms,
        propose_delta_ms=params.timeout_propose_delta_ms,
        prevote_ms=params.timeout_prevote_ms,
        prevote_delta_ms=params.timeout_prevote_delta_ms,
        precommit_ms=params.timeout_precommit_ms,
        precommit_delta_ms=params.timeout_precommit_delta_ms,
        commit_ms=params.block_time_ms,
    )
