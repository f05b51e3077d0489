"""An in-process network of validators: real chains in real LevelDB directories, the real
consensus host, an in-memory network and one fake clock.

Time moves only when nothing else can happen, to the next due timer or message, so a run is
deterministic for a seed and takes the CPU time of its block executions, not the wall-clock time
of its timeouts.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from eth_keys import keys
from support.clock import FakeClock, ManualScheduler
from support.memory import MemoryNetwork, MemoryTransport

from openledger.consensus.events import TimeoutConfig
from openledger.genesis.dev import derive_dev_keys, make_dev_genesis
from openledger.genesis.model import Genesis
from openledger.genesis.types import Address, ChainId
from openledger.node.chain import NodeChain
from openledger.node.chainspec import build_genesis, build_vm_class
from openledger.node.consensus_host import ConsensusHost
from openledger.node.evidence import EvidenceReporter
from openledger.node.safety import SafeSigner
from openledger.node.validator_sets import StakingValidators
from openledger.state.execute import Chain
from openledger.state.store import ChainStore

CHAIN_ID = ChainId(4242)
GENESIS_TIME = 1_700_000_000
FAST_TIMEOUTS = TimeoutConfig(
    propose_ms=400, propose_delta_ms=100, prevote_ms=200, prevote_delta_ms=100,
    precommit_ms=200, precommit_delta_ms=100, commit_ms=1000,
)  # fmt: skip


def validator_key(index: int) -> bytes:
    """A deterministic validator key (test only)."""
    return hashlib.sha256(f"openledger test validator {index}".encode()).digest()


def node_key(index: int) -> keys.PrivateKey:
    """A deterministic p2p node key (test only)."""
    return keys.PrivateKey(hashlib.sha256(f"openledger test node {index}".encode()).digest())


@dataclass
class Member:
    """One node of the cluster."""

    index: int
    chain: NodeChain
    host: ConsensusHost
    transport: MemoryTransport
    scheduler: ManualScheduler
    peer_id: bytes
    path: Path

    @property
    def head(self) -> int:
        return int(self.chain.store.head.block_number)

    def hashes(self) -> list[bytes]:
        store = self.chain.store
        return [store.get_header(number).hash for number in range(self.head + 1)]  # type: ignore[union-attr]


@dataclass
class Cluster:
    """Validators (and full nodes) wired through one `MemoryNetwork`."""

    root: Path
    validators: int = 4
    full_nodes: int = 0
    seed: int = 1
    timeouts: TimeoutConfig = FAST_TIMEOUTS
    stakes: tuple[int, ...] | None = None
    epoch_length: int = 10
    extra_keys: tuple[bytes, ...] = ()
    """Accounts funded at genesis besides the dev accounts and the validators (future validators)."""
    clock: FakeClock = field(default_factory=FakeClock)
    members: list[Member] = field(default_factory=list)
    equivocations: list[tuple[int, object, object]] = field(default_factory=list)
    reporters: dict[int, EvidenceReporter | None] = field(default_factory=dict)
    report_evidence: bool = True

    def __post_init__(self) -> None:
        self.hub = MemoryNetwork(seed=self.seed, clock=self.clock)
        self.keys = [validator_key(i) for i in range(self.validators)]
        self.addresses = [
            Address(keys.PrivateKey(k).public_key.to_canonical_address()) for k in self.keys
        ]
        self.genesis = self._make_genesis()
        self.vm_class = build_vm_class(self.genesis)

    def _make_genesis(self) -> Genesis:
        # Validator keys (and future validators' keys) are funded: they pay gas for evidence and
        # staking transactions.
        extra = tuple(
            Address(keys.PrivateKey(k).public_key.to_canonical_address()) for k in self.extra_keys
        )
        funded = (*(k.address for k in derive_dev_keys(4)), *self.addresses, *extra)
        genesis = make_dev_genesis(CHAIN_ID, funded, tuple(self.addresses), timestamp=GENESIS_TIME)
        params = genesis.openledger
        validators = params.validators
        if self.stakes is not None:
            validators = tuple(replace(v, stake=self.stakes[i]) for i, v in enumerate(validators))
        staking = replace(params.staking, epoch_length=self.epoch_length)
        return replace(genesis, openledger=replace(params, validators=validators, staking=staking))

    def add_member(
        self,
        index: int,
        *,
        signer_key: bytes | None,
        host_class: type[ConsensusHost] = ConsensusHost,
    ) -> Member:
        path = self.root / f"node{index}"
        store = ChainStore.open(path, build_genesis(self.genesis), self.vm_class)
        chain = NodeChain(store, Chain(self.vm_class, CHAIN_ID))
        scheduler = ManualScheduler(self.clock, epoch_seconds=GENESIS_TIME + 1)
        peer_id = node_key(index).public_key.to_compressed_bytes()
        transport = self.hub.join(peer_id)
        signer = SafeSigner(store.db, signer_key, CHAIN_ID) if signer_key else None
        validators = StakingValidators(store, self.genesis.openledger.staking)
        host = host_class(
            chain, transport, validators, scheduler, self.timeouts, store.genesis_hash, signer=signer,
        )  # fmt: skip
        reporter = EvidenceReporter(chain, signer_key) if signer_key else None
        self.reporters[index] = reporter
        transport.on_message = host.on_message
        transport.on_peer_connected = host.on_peer_connected
        transport.on_peer_disconnected = host.on_peer_disconnected
        member = Member(index, chain, host, transport, scheduler, peer_id, path)
        self.members.append(member)
        return member

    async def start(
        self,
        hosts: dict[int, type[ConsensusHost]] | None = None,
        *,
        silent: frozenset[int] = frozenset(),
    ) -> None:
        """Create and start the members; `hosts` swaps in other host classes (Byzantine ones get
        their raw key and the first half of the network); `silent` validators are never created."""
        hosts = hosts or {}
        for index in range(self.validators):
            if index in silent:
                continue
            member = self.add_member(
                index, signer_key=self.keys[index], host_class=hosts.get(index, ConsensusHost)
            )
            if index in hosts:
                member.host.key = self.keys[index]  # type: ignore[attr-defined]
                member.host.first_half = {
                    node_key(i).public_key.to_compressed_bytes()
                    for i in range(self.validators // 2)
                }  # type: ignore[attr-defined]
        for index in range(self.validators, self.validators + self.full_nodes):
            self.add_member(index, signer_key=None)
        for member in self.members:
            member.host.on_equivocation = self._equivocation_listener(member.index)
            await member.host.start()

    def _equivocation_listener(self, index: int):  # type: ignore[no-untyped-def]
        """Record what `index` saw, and let its validator report it as evidence on chain."""

        def listen(vote_a: object, vote_b: object) -> None:
            self.equivocations.append((index, vote_a, vote_b))
            reporter = self.reporters.get(index)
            if reporter is not None and self.report_evidence:
                reporter.report(vote_a, vote_b)  # type: ignore[arg-type]

        return listen

    def stop(self, index: int) -> None:
        """Stop a member as a crash would: it leaves the network and its database is closed."""
        member = self.member(index)
        self.hub.leave(member.peer_id)
        member.chain.store.close()
        self.members.remove(member)

    async def restart(self, index: int, *, signer: bool = True) -> Member:
        """Start a member again from its data directory (a validator keeps its key)."""
        key = self.keys[index] if signer and index < self.validators else None
        member = self.add_member(index, signer_key=key)
        member.host.on_equivocation = self._equivocation_listener(index)
        await member.host.start()
        return member

    def member(self, index: int) -> Member:
        return next(m for m in self.members if m.index == index)

    def group(self, *indexes: int) -> set[bytes]:
        return {node_key(i).public_key.to_compressed_bytes() for i in indexes}

    async def run_until(
        self, done: Callable[[], bool], *, max_ms: int = 600_000, max_steps: int = 2_000_000
    ) -> None:
        """Run until `done()` holds; fail if fake time passes `max_ms` or work passes `max_steps`."""
        deadline = self.clock.now() + max_ms
        for _ in range(max_steps):
            if done():
                return
            if await self._work():
                continue
            due = [
                d
                for d in (
                    self.hub.next_due_ms(),
                    *(m.scheduler.next_due_ms() for m in self.members),
                )
                if d is not None
            ]
            if not due:
                raise AssertionError("nothing left to happen, and the condition does not hold")
            target = min(due)
            if target > deadline:
                raise AssertionError(f"condition not reached within {max_ms} ms of fake time")
            self.clock.advance(max(0, target - self.clock.now()))
        raise AssertionError(f"condition not reached within {max_steps} steps")

    async def _work(self) -> bool:
        progressed = False
        while self.hub.deliver_next() is not None:
            progressed = True
        for member in self.members:
            if member.scheduler.fire_due():
                progressed = True
        for member in self.members:
            if await member.host.process_pending():
                progressed = True
        return progressed

    def close(self) -> None:
        for member in self.members:
            member.chain.store.close()

    def assert_agreement(self) -> None:
        """Every pair of nodes has the same block hash at every height both have."""
        chains = [member.hashes() for member in self.members]
        shortest = min(len(c) for c in chains)
        for index, chain in enumerate(chains[1:], start=1):
            assert chain[:shortest] == chains[0][:shortest], f"node {index} forked from node 0"
