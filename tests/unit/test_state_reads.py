"""`SharedReads`: calls on one committed state share its account reads, and nothing else."""

from pathlib import Path

from unit_helpers import FUNDED, RECIPIENT, LocalChain, sign

from openledger.genesis.types import Address
from openledger.state.reads import SharedReads


def test_a_state_that_writes_below_the_journal_leaves_the_shared_reads_as_committed(
    tmp_path: Path,
) -> None:
    local = LocalChain.open(tmp_path / "chain")
    local.add_block([sign(0, 0, value=5)])
    reads = SharedReads()
    head = local.store.head
    committed = local.balance(FUNDED[0])

    first = local.store.state_at(head)
    reads.attach(first)
    assert first.get_balance(FUNDED[0]) == committed
    # A change, its state root computed: py-evm writes it into the layer the cache sits under.
    first.set_balance(FUNDED[0], 1)
    first.set_balance(RECIPIENT, 7)
    first.make_state_root()
    assert first.get_balance(FUNDED[0]) == 1
    assert first.get_balance(RECIPIENT) == 7
    assert first.get_balance(FUNDED[1]) == local.balance(FUNDED[1])

    second = local.store.state_at(head)
    reads.attach(second)
    assert second.get_balance(FUNDED[0]) == committed
    assert second.get_balance(RECIPIENT) == 5
    assert second.get_balance(Address(b"\x42" * 20)) == 0


def test_states_of_different_roots_do_not_share_reads(tmp_path: Path) -> None:
    local = LocalChain.open(tmp_path / "chain")
    reads = SharedReads()
    before = local.store.state_at(local.store.head)
    reads.attach(before)
    assert before.get_balance(RECIPIENT) == 0
    local.add_block([sign(0, 0, value=9)])
    after = local.store.state_at(local.store.head)
    reads.attach(after)
    assert after.get_balance(RECIPIENT) == 9
