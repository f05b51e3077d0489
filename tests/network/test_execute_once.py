"""Each node executes each block once: the proposer when it builds it, every other node when it
checks the proposal before prevoting; the decided block is committed from that execution, by
consensus or by a push of the committed block alike."""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster import CHAIN_ID, Cluster
from eth_account import Account

from openledger.genesis.dev import derive_dev_keys
from openledger.node import blocks
from openledger.node.chain import BuiltBlock, NodeChain
from openledger.node.protocol import MessageKind
from openledger.state.store import ExecutedBlock

pytestmark = pytest.mark.timeout(240)


class ExecutionSpy:
    """Counts block executions per node (by its database) and block hash: the proposer's build
    (`NodeChain._build`) and the import of a block from a peer (`import_block`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: Counter[tuple[int, bytes]] = Counter()
        real_build = NodeChain._build
        real_import = blocks.import_block

        def build(chain: NodeChain, *args: Any) -> BuiltBlock:
            built = real_build(chain, *args)
            self.counts[(id(chain.store.db), built.executed.block.hash)] += 1
            return built

        def import_block(chain: Any, db: Any, *args: Any) -> ExecutedBlock:
            executed = real_import(chain, db, *args)
            self.counts[(id(db), executed.block.hash)] += 1
            return executed

        self.adopted = 0
        real_adopt = NodeChain.adopt_senders

        def adopt_senders(chain: NodeChain, transactions: Any) -> int:
            adopted = real_adopt(chain, transactions)
            # The sender taken from the pool is the one the signature gives.
            assert all(tx.sender == tx.get_sender() for tx in transactions)
            self.adopted += adopted
            return adopted

        monkeypatch.setattr(NodeChain, "adopt_senders", adopt_senders)
        monkeypatch.setattr(NodeChain, "_build", build)
        monkeypatch.setattr(blocks, "import_block", import_block)

    def executions(self, cluster: Cluster, index: int, number: int) -> int:
        store = cluster.member(index).chain.store
        header = store.get_header(number)
        assert header is not None
        return self.counts[(id(store.db), header.hash)]


def transfers(count: int) -> Iterator[bytes]:
    """Signed value transfers from the first dev account."""
    key = derive_dev_keys(1)[0]
    for nonce in range(count):
        yield bytes(
            Account.sign_transaction(
                {"type": 2, "chainId": CHAIN_ID, "nonce": nonce, "to": "0x" + "11" * 20,
                 "value": 1, "gas": 21_000, "maxFeePerGas": 10**11,
                 "maxPriorityFeePerGas": 10**9},
                key.private_key,
            ).raw_transaction
        )  # fmt: skip


def state_roots(cluster: Cluster, last: int) -> set[tuple[bytes, ...]]:
    return {
        tuple(m.chain.store.get_header(n).state_root for n in range(1, last + 1))  # type: ignore[union-attr]
        for m in cluster.members
    }


async def test_each_validator_executes_each_block_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = ExecutionSpy(monkeypatch)
    cluster = Cluster(tmp_path)
    try:
        await cluster.start()
        for raw in transfers(40):
            cluster.members[1].chain.submit_transaction(raw)
        await cluster.run_until(lambda: all(m.head >= 10 for m in cluster.members))
        cluster.assert_agreement()
        store = cluster.members[0].chain.store
        included = sum(len(store.get_block(store.get_header(n)).transactions) for n in range(1, 11))  # type: ignore[arg-type]
        assert included == 40
        for member in cluster.members:
            for number in range(1, 11):
                assert spy.executions(cluster, member.index, number) == 1, (member.index, number)
        assert len(state_roots(cluster, 10)) == 1
        # The three validators that did not propose a block took its senders from their pools.
        assert spy.adopted == 3 * 40
    finally:
        cluster.close()


async def test_a_pushed_block_already_executed_as_a_candidate_is_not_executed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full node that gets every proposal but no vote checks each proposal, and then commits the
    block its peers push from that execution."""
    spy = ExecutionSpy(monkeypatch)
    cluster = Cluster(tmp_path, full_nodes=1)
    try:
        await cluster.start()
        follower = cluster.member(4)
        follower.host.sync.request_from_best = lambda avoid=None: None  # type: ignore[method-assign]
        pushed: Counter[int] = Counter()

        def no_votes(sender: bytes, recipient: bytes, kind: int, payload: bytes) -> bool:
            if recipient != follower.peer_id:
                return False
            pushed[kind] += 1
            return kind == MessageKind.VOTE

        cluster.hub.set_drop_filter(no_votes)
        for raw in transfers(20):
            cluster.members[0].chain.submit_transaction(raw)
        await cluster.run_until(lambda: follower.head >= 8, max_ms=120_000)
        cluster.assert_agreement()
        assert pushed[MessageKind.NEW_BLOCK] >= 8
        for number in range(1, 9):
            assert spy.executions(cluster, 4, number) == 1, number
        assert len(state_roots(cluster, 8)) == 1
    finally:
        cluster.close()


def test_candidates_are_bounded_oldest_first() -> None:
    cache = blocks.CandidateCache(limit=2)
    items = [object() for _ in range(3)]
    for index, item in enumerate(items):
        cache[bytes([index]) * 32] = item  # type: ignore[index,assignment]
    assert len(cache) == 2
    assert cache.get(bytes([0]) * 32) is None
    assert cache.get(bytes([2]) * 32) is items[2]
    cache.clear()
    assert len(cache) == 0
