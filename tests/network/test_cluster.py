"""Validators in one process, on an in-memory network with a fake clock: the fault scenarios a
BFT chain must survive, each checked for agreement (same hash at every height on every node)."""

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from byzantine import ConflictingProposer, Equivocator
from cluster import FAST_TIMEOUTS, Cluster

from openledger.consensus.messages import CommitCertificate, Vote, VoteKind
from openledger.node.protocol import MessageKind

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def cluster(tmp_path: Path):  # type: ignore[no-untyped-def]
    instance = Cluster(tmp_path)
    yield instance
    instance.close()


def count_messages(cluster: Cluster) -> Counter[int]:
    """Count every message the network carries, by kind."""
    counts: Counter[int] = Counter()

    def observe(sender: bytes, recipient: bytes, kind: int, payload: bytes) -> bool:
        counts[kind] += 1
        return False

    cluster.hub.set_drop_filter(observe)
    return counts


async def test_four_validators_commit_100_heights(cluster: Cluster) -> None:
    counts = count_messages(cluster)
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 100 for m in cluster.members))
    cluster.assert_agreement()
    # Every validator decided every block itself: no block was pushed or fetched.
    assert counts[MessageKind.NEW_BLOCK] == counts[MessageKind.GET_BLOCKS] == 0
    assert counts[MessageKind.VOTE] > 0
    store = cluster.members[0].chain.store
    for number in range(1, 100):
        encoded = {m.chain.store.get_commit(number) for m in cluster.members}
        assert len(encoded) == 1, f"nodes keep different commits for block {number}"
        certificate = CommitCertificate.decode(encoded.pop())
        assert certificate.hash() == store.get_header(number + 1).extra_data
        assert len(certificate.precommits) >= 3


async def test_one_silent_validator_does_not_stop_the_chain(cluster: Cluster) -> None:
    await cluster.start(silent=frozenset({3}))
    await cluster.run_until(lambda: all(m.head >= 15 for m in cluster.members))
    cluster.assert_agreement()
    # The silent validator's turns as proposer cost a round each, and nothing else.
    store = cluster.members[0].chain.store
    rounds = [CommitCertificate.decode(store.get_commit(n)).round for n in range(1, 15)]
    assert any(r > 0 for r in rounds) and max(rounds) <= 1


async def test_full_node_follows_without_signing(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, full_nodes=1)
    try:
        await cluster.start()
        await cluster.run_until(lambda: all(m.head >= 10 for m in cluster.members))
        cluster.assert_agreement()
        follower = cluster.member(4)
        signers = {
            vote.validator
            for n in range(1, 10)
            for vote in CommitCertificate.decode(follower.chain.store.get_commit(n)).precommits
        }
        assert signers <= set(cluster.addresses)
    finally:
        cluster.close()


async def test_a_healthy_network_with_latency_pushes_and_fetches_no_block(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    try:
        counts = count_messages(cluster)
        cluster.hub.set_delay(20, 150)
        await cluster.start()
        await cluster.run_until(lambda: all(m.head >= 30 for m in cluster.members))
        cluster.assert_agreement()
        assert counts[MessageKind.NEW_BLOCK] == counts[MessageKind.GET_BLOCKS] == 0
    finally:
        cluster.close()


async def test_committed_blocks_reach_a_node_that_misses_every_decision(tmp_path: Path) -> None:
    """A full node that receives no proposal and no vote follows the chain by the committed blocks
    its peers push (its own block requests are switched off, so nothing else can bring them)."""
    cluster = Cluster(tmp_path, full_nodes=1, timeouts=replace(FAST_TIMEOUTS, commit_ms=2000))
    try:
        await cluster.start()
        follower = cluster.member(4)
        follower.host.sync.request_from_best = lambda avoid=None: None  # type: ignore[method-assign]
        pushed: Counter[int] = Counter()

        def cut_off(sender: bytes, recipient: bytes, kind: int, payload: bytes) -> bool:
            if recipient != follower.peer_id:
                return False
            pushed[kind] += 1
            return kind in (MessageKind.PROPOSAL, MessageKind.VOTE)

        cluster.hub.set_drop_filter(cut_off)
        await cluster.run_until(lambda: follower.head >= 12, max_ms=120_000)
        cluster.assert_agreement()
        # Each validator pushes each block at most once; nobody was dropped for it; the follower
        # moved on to the next height each time.
        assert 12 <= pushed[MessageKind.NEW_BLOCK] <= 4 * follower.head
        assert pushed[MessageKind.BLOCKS] == 0
        assert len(follower.transport.peers()) == 4
        assert follower.host.state is not None and follower.host.state.height == follower.head + 1
        store = follower.chain.store
        for number in range(1, 12):
            certificate = CommitCertificate.decode(store.get_commit(number))
            assert certificate.block_hash == store.get_header(number).hash
    finally:
        cluster.close()


async def test_conflicting_proposals_to_two_halves_fork_nothing(cluster: Cluster) -> None:
    await cluster.start(hosts={0: ConflictingProposer})
    await cluster.run_until(lambda: all(m.head >= 12 for m in cluster.members))
    cluster.assert_agreement()
    assert cluster.member(0).host.splits >= 2  # type: ignore[attr-defined]


async def test_equivocating_validator_is_detected_and_changes_nothing(cluster: Cluster) -> None:
    await cluster.start(hosts={1: Equivocator})
    await cluster.run_until(
        lambda: all(m.head >= 8 for m in cluster.members) and len(cluster.equivocations) > 0
    )
    cluster.assert_agreement()
    assert cluster.member(1).host.equivocations_sent > 0  # type: ignore[attr-defined]
    offender = cluster.addresses[1]
    for _, vote_a, vote_b in cluster.equivocations:
        assert vote_a.validator == vote_b.validator == offender  # type: ignore[attr-defined]
        assert (vote_a.height, vote_a.round, vote_a.kind) == (
            vote_b.height,
            vote_b.round,
            vote_b.kind,
        )  # type: ignore[attr-defined]
        assert vote_a.block_hash != vote_b.block_hash  # type: ignore[attr-defined]
    assert {who for who, _, _ in cluster.equivocations} - {1}, "honest validators saw the two faces"


async def test_two_two_partition_commits_nothing_then_heals(cluster: Cluster) -> None:
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 5 for m in cluster.members))
    cluster.hub.partition(cluster.group(0, 1), cluster.group(2, 3))
    # One decision may already be in flight when the split happens; nothing after it.
    start = max(m.head for m in cluster.members)
    stalled = cluster.clock.now() + 60_000
    await cluster.run_until(lambda: cluster.clock.now() >= stalled, max_ms=70_000)
    assert max(m.head for m in cluster.members) <= start + 1
    cluster.assert_agreement()
    cluster.hub.heal()
    await cluster.run_until(
        lambda: all(m.head >= start + 5 for m in cluster.members), max_ms=120_000
    )
    cluster.assert_agreement()


@pytest.mark.parametrize("seed", range(6))
async def test_delay_loss_and_reordering_never_break_agreement(tmp_path: Path, seed: int) -> None:
    cluster = Cluster(tmp_path, seed=seed)
    try:
        await cluster.start()
        cluster.hub.set_delay(0, 400)
        cluster.hub.set_loss(0.05)
        cluster.hub.set_reorder(True)
        await cluster.run_until(lambda: all(m.head >= 8 for m in cluster.members), max_ms=300_000)
        cluster.assert_agreement()
    finally:
        cluster.close()


async def test_crashed_validator_catches_up_and_signs_again(cluster: Cluster) -> None:
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 5 for m in cluster.members))
    cluster.stop(2)
    await cluster.run_until(lambda: all(m.head >= 20 for m in cluster.members))
    back = await cluster.restart(2)
    # It syncs the blocks it missed (checking their commits), then signs live again.
    await cluster.run_until(lambda: all(m.head >= 30 for m in cluster.members))
    cluster.assert_agreement()
    assert back.head >= 30
    store = back.chain.store
    signed_after = {
        n for n in range(25, 30)
        if cluster.addresses[2] in {v.validator for v in CommitCertificate.decode(store.get_commit(n)).precommits}
    }  # fmt: skip
    assert signed_after, "the restarted validator does not sign"


async def test_late_full_node_syncs_every_block_with_its_commit(cluster: Cluster) -> None:
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 40 for m in cluster.members))
    late = await cluster.restart(9, signer=False)
    await cluster.run_until(lambda: late.head >= 45)
    cluster.assert_agreement()
    assert late.hashes()[:41] == cluster.member(0).hashes()[:41]


async def _stall_then_restart_all(
    cluster: Cluster, stalled_enough: Callable[[int], bool], after_stall: Callable[[], None]
) -> int:
    """Drop every precommit so that the next height cannot decide, wait until
    `stalled_enough(stuck)`, call `after_stall`, then stop and restart all four validators at
    once; returns the stuck height once every node is two blocks past it."""
    from openledger.node.protocol import MessageKind

    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 4 for m in cluster.members))

    def is_precommit(sender: bytes, recipient: bytes, kind: int, payload: bytes) -> bool:
        return kind == MessageKind.VOTE and Vote.decode(payload).kind is VoteKind.PRECOMMIT

    cluster.hub.set_drop_filter(is_precommit)
    stuck = max(m.head for m in cluster.members) + 1
    await cluster.run_until(lambda: stalled_enough(stuck), max_ms=60_000)
    after_stall()
    for index in range(4):
        cluster.stop(index)
    cluster.hub.set_drop_filter(None)
    for index in range(4):
        await cluster.restart(index)
    await cluster.run_until(
        lambda: all(m.head >= stuck + 2 for m in cluster.members), max_ms=120_000
    )
    cluster.assert_agreement()
    return stuck


async def test_whole_network_restart_mid_height_goes_on(cluster: Cluster) -> None:
    """Every validator signs in a round that cannot decide, then all restart at once: each must
    move on to a round it has not signed in (its signer refuses anything else in the old one)."""

    def everyone_signed_at(stuck: int) -> bool:
        return all(
            m.host.signer is not None and (m.host.signer.last_signed or (0,))[0] == stuck
            for m in cluster.members
        )

    await _stall_then_restart_all(cluster, everyone_signed_at, lambda: None)


async def test_whole_network_restart_locked_on_a_block_commits_it(cluster: Cluster) -> None:
    """Every validator locks on round 0's block, then all restart at once: the block's body was
    persisted with the lock, so the next proposer re-proposes it and the height commits it."""
    locked: set[bytes] = set()

    def everyone_locked_at(stuck: int) -> bool:
        return all(
            m.host.state is not None
            and m.host.state.height == stuck
            and m.host.state.locked_value is not None
            for m in cluster.members
        )

    def remember_the_lock() -> None:
        locked.update(m.host.state.locked_value for m in cluster.members if m.host.state)

    stuck = await _stall_then_restart_all(cluster, everyone_locked_at, remember_the_lock)
    assert len(locked) == 1
    assert cluster.member(0).hashes()[stuck] == locked.pop()
