"""Network faults on a real devnet (four validators, one RPC node, each process in its own network
namespace): partitions 2-2 and 1-3 and their healing, an isolated proposer, packet loss, packet
delay and a flapping link. After each: every node has the same block hash and state root at every
height, no block seen earlier changed, no validator signed twice, no receipted transaction is
lost, and the chain is live again within the bound stated by each test.

Bounds: a healed or never-broken majority commits 2 more blocks within HEAL_BOUND seconds (the
block time is 1 s; a TCP connection that was blackholed resumes at its next retransmission, which
after a partition of ~8 s comes within a few seconds).
"""

import time

import pytest
from process.test_network import Load

from faults.cluster import LabDevnet, assert_receipts_kept
from faults.netlab import DelayRelay

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

HEAL_BOUND = 15.0
"""Seconds for the chain to commit two blocks on every node once a partition heals."""
DEGRADED_BOUND = 30.0
"""Seconds for two blocks while a minority is cut off, lossy or slow (round changes included)."""


def test_two_two_partition_halts_without_forking_then_heals(lab_devnet) -> None:
    devnet: LabDevnet = lab_devnet()
    v1, v2, v3, v4 = devnet.validators
    devnet.wait_height(3)
    with Load(devnet.rpc_node.url) as load:
        # Half of the stake on each side: neither has more than 2/3, so neither commits.
        devnet.lab.partition([v1.index, v2.index, devnet.rpc_node.index], [v3.index, v4.index])
        devnet.assert_stalled(devnet.nodes, 8)
        devnet.lab.heal()
        devnet.assert_live("2-2 heal", HEAL_BOUND)
        devnet.assert_live("after the heal, under load", HEAL_BOUND, blocks=3)
    devnet.assert_invariants()
    assert_receipts_kept(devnet.nodes, load.receipts)


def test_one_three_partition_majority_goes_on_minority_catches_up(lab_devnet) -> None:
    devnet: LabDevnet = lab_devnet()
    v1, v2, v3, v4 = devnet.validators
    majority = [v1, v2, v3, devnet.rpc_node]
    devnet.wait_height(3)
    with Load(devnet.rpc_node.url) as load:
        devnet.lab.partition([v4.index], [n.index for n in majority])
        devnet.assert_live("1-3 split, majority", DEGRADED_BOUND, majority, blocks=5)
        cut_at = v4.height()
        devnet.lab.heal()
        devnet.assert_live("1-3 heal", HEAL_BOUND)
        assert v4.height() > cut_at + 5
    devnet.assert_invariants()
    assert_receipts_kept(devnet.nodes, load.receipts)


def test_an_isolated_proposer_forces_a_round_change(lab_devnet) -> None:
    devnet: LabDevnet = lab_devnet()
    devnet.wait_height(3)
    by_address = {n.spec.address: n for n in devnet.validators}
    # The proposer of the height in progress, as every validator computes it.
    state = devnet.consensus_state()
    proposer = by_address[state["proposer"].lower()]
    others = [n for n in devnet.nodes if n is not proposer]
    devnet.lab.partition([proposer.index], [n.index for n in others])
    # Equal stakes rotate the proposer: within 5 heights its turn comes at least once.
    devnet.assert_live("isolated proposer, the others", DEGRADED_BOUND, others, blocks=5)
    rounds = [
        devnet.commit_round(others[0], h) for h in range(state["height"], others[0].height() + 1)
    ]
    assert max(rounds) > 0, f"no round change while the proposer was cut off: {rounds}"
    devnet.lab.heal()
    devnet.assert_live("isolated proposer heal", HEAL_BOUND)
    devnet.assert_invariants()


def test_ten_percent_packet_loss_on_every_link(lab_devnet) -> None:
    devnet: LabDevnet = lab_devnet()
    devnet.wait_height(3)
    indexes = [n.index for n in devnet.nodes]
    with Load(devnet.rpc_node.url) as load:
        for node in devnet.nodes:
            devnet.lab.set_loss(node.index, 0.10, [i for i in indexes if i != node.index])
        for round_number in range(3):
            devnet.assert_live(f"10% loss, stretch {round_number + 1}", DEGRADED_BOUND, blocks=3)
        for node in devnet.nodes:
            devnet.lab.clear_loss(node.index)
        devnet.assert_live("loss removed", HEAL_BOUND)
    devnet.assert_invariants()
    assert_receipts_kept(devnet.nodes, load.receipts)


def test_delay_and_jitter_on_every_link(lab_devnet) -> None:
    relay = DelayRelay(host="", delay=0.150, jitter=0.050)

    def through_relays(devnet: LabDevnet) -> None:
        relay.host = devnet.lab.host_address
        for node in devnet.nodes:
            devnet.dial[node.name] = (relay.host, relay.add((node.spec.host, node.spec.p2p_port)))

    try:
        devnet: LabDevnet = lab_devnet(before_start=through_relays)
        devnet.wait_height(3, timeout=90)
        with Load(devnet.rpc_node.url) as load:
            for stretch in range(3):
                devnet.assert_live(
                    f"150±50 ms delay, stretch {stretch + 1}", DEGRADED_BOUND, blocks=3
                )
        assert relay.chunks > 100, "the nodes did not talk through the relay"
        devnet.assert_invariants()
        assert_receipts_kept(devnet.nodes, load.receipts)
    finally:
        relay.close()


def test_a_flapping_link_then_steady(lab_devnet) -> None:
    devnet: LabDevnet = lab_devnet()
    v4 = devnet.validators[3]
    devnet.wait_height(3)
    others = [n.index for n in devnet.nodes if n is not v4]
    with Load(devnet.rpc_node.url) as load:
        for _ in range(8):  # validator4 on and off every second
            devnet.lab.partition([v4.index], others)
            time.sleep(1.0)
            devnet.lab.heal()
            time.sleep(1.0)
        devnet.assert_live("flapping ended", HEAL_BOUND)
    devnet.assert_invariants()
    assert_receipts_kept(devnet.nodes, load.receipts)
