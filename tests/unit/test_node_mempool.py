"""The mempool: admission against the head state, replacement, limits and eviction, block
selection and pruning after a block, with real signed transactions."""

import contextlib
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import KEYS, sign, tx

from openledger.genesis.model import ETHER, GWEI
from openledger.genesis.types import Address, Gas, Wei
from openledger.node.mempool import AddResult, Mempool, PoolLimits, PoolTransaction
from openledger.state.errors import InvalidTransaction
from openledger.state.transactions import compute_effective_tip

A, B, C, D = (KEYS[i].address for i in range(4))
BASE_FEE = Wei(GWEI)
BLOCK_GAS = Gas(30_000_000)
COST = 21_000 * 2 * GWEI  # upfront cost of a default transaction (gas at a 2 gwei fee cap)


@dataclass
class FakeAccounts:
    """The head state as the pool sees it: nonces, balances and code."""

    nonces: dict[Address, int] = field(default_factory=dict)
    balances: dict[Address, int] = field(default_factory=dict)
    codes: dict[Address, bytes] = field(default_factory=dict)

    def get_nonce(self, address: Address) -> int:
        return self.nonces.get(address, 0)

    def get_balance(self, address: Address) -> int:
        return self.balances.get(address, ETHER)

    def get_code(self, address: Address) -> bytes:
        return self.codes.get(address, b"")


def add(
    pool: Mempool, sender: int, nonce: int, state: FakeAccounts | None = None, **fields: object
) -> AddResult:
    raw = sign(sender, nonce, **fields)  # type: ignore[arg-type]
    return pool.add(tx(sender, nonce, **fields), raw, state or FakeAccounts(), BASE_FEE)


def refusal(
    pool: Mempool, sender: int, nonce: int, state: FakeAccounts | None = None, **fields: object
) -> str:
    size = len(pool)
    with pytest.raises(InvalidTransaction) as raised:
        add(pool, sender, nonce, state, **fields)
    assert len(pool) == size
    return raised.value.reason


def picked(selection: list[PoolTransaction]) -> list[tuple[Address, int]]:
    return [(entry.sender, entry.nonce) for entry in selection]


# --- pending and queued --------------------------------------------------------------------------


def test_a_transaction_at_the_account_nonce_is_pending() -> None:
    pool = Mempool()
    state = FakeAccounts(nonces={A: 5})

    result = add(pool, 0, 5, state)

    assert result.pending and result.replaced is None
    assert result.hash in pool
    assert pool.get(result.hash).raw == sign(0, 5)  # type: ignore[union-attr]


def test_a_nonce_gap_queues_and_filling_it_promotes() -> None:
    pool = Mempool()

    first = add(pool, 0, 0)
    third = add(pool, 0, 2)
    assert (first.pending, third.pending) == (True, False)
    pending, queued = pool.pending_and_queued()
    assert ([e.nonce for e in pending[A]], [e.nonce for e in queued[A]]) == ([0], [2])

    second = add(pool, 0, 1)

    assert second.pending
    pending, queued = pool.pending_and_queued()
    assert ([e.nonce for e in pending[A]], queued) == ([0, 1, 2], {})
    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(A, 0), (A, 1), (A, 2)]


def test_pending_nonce_counts_the_transactions_without_a_gap() -> None:
    pool = Mempool()
    for nonce in (0, 1, 3):
        add(pool, 0, nonce)

    assert pool.pending_nonce(A, 0) == 2
    assert pool.pending_nonce(A, 3) == 4
    assert pool.pending_nonce(B, 7) == 7


# --- admission refusals --------------------------------------------------------------------------


def test_a_known_transaction_is_refused() -> None:
    pool = Mempool()
    add(pool, 0, 0)

    assert refusal(pool, 0, 0) == "already known"


def test_a_used_nonce_is_refused() -> None:
    assert refusal(Mempool(), 0, 2, FakeAccounts(nonces={A: 3})) == "nonce too low"


@pytest.mark.parametrize(("nonce", "accepted"), [(3 + 4, True), (3 + 5, False)])
def test_a_nonce_beyond_the_gap_limit_is_refused(nonce: int, accepted: bool) -> None:
    pool = Mempool(PoolLimits(max_nonce_gap=4))
    state = FakeAccounts(nonces={A: 3})

    if accepted:
        assert not add(pool, 0, nonce, state).pending
    else:
        assert refusal(pool, 0, nonce, state) == "nonce too high"


@pytest.mark.parametrize(("fee_cap", "accepted"), [(BASE_FEE, True), (BASE_FEE - 1, False)])
def test_a_fee_cap_below_the_base_fee_is_refused(fee_cap: int, accepted: bool) -> None:
    pool = Mempool()

    if accepted:
        add(pool, 0, 0, tip=1, fee_cap=fee_cap)
    else:
        assert (
            refusal(pool, 0, 0, tip=1, fee_cap=fee_cap)
            == "max fee per gas less than block base fee"
        )


@pytest.mark.parametrize(("balance", "accepted"), [(COST + 7, True), (COST + 6, False)])
def test_the_sender_must_afford_gas_at_the_fee_cap_plus_value(balance: int, accepted: bool) -> None:
    pool = Mempool()
    state = FakeAccounts(balances={A: balance})

    if accepted:
        add(pool, 0, 0, state, value=7)
    else:
        assert refusal(pool, 0, 0, state, value=7) == "insufficient funds for gas * price + value"


def test_the_cost_of_earlier_pool_transactions_counts_against_the_balance() -> None:
    pool = Mempool()
    state = FakeAccounts(balances={A: 2 * COST})
    add(pool, 0, 0, state)
    add(pool, 0, 1, state)

    assert refusal(pool, 0, 2, state) == "insufficient funds for gas * price + value"
    # Another sender's balance is its own.
    add(pool, 1, 0, state)


def test_the_per_sender_limit_refuses_more_but_allows_replacements() -> None:
    pool = Mempool(PoolLimits(max_per_sender=2))
    add(pool, 0, 0)
    add(pool, 0, 1)

    assert refusal(pool, 0, 2) == "txpool is full"
    assert add(pool, 0, 1, tip=2 * GWEI, fee_cap=4 * GWEI).replaced is not None
    add(pool, 1, 0)


# --- replacement ---------------------------------------------------------------------------------

OLD_TIP, OLD_CAP = 10 * GWEI, 20 * GWEI


@pytest.mark.parametrize(
    ("tip", "fee_cap", "accepted"),
    [
        (11 * GWEI, 22 * GWEI, True),  # +10 % of both
        (50 * GWEI, 50 * GWEI, True),
        (11 * GWEI, 21_800_000_000, False),  # fee cap +9 %
        (10_900_000_000, 22 * GWEI, False),  # tip +9 %
        (OLD_TIP, 40 * GWEI, False),  # tip unchanged
        (OLD_TIP, OLD_CAP, False),  # same fees, other value
        (5 * GWEI, 30 * GWEI, False),  # tip lowered
    ],
)
def test_replacement_needs_both_fees_raised_by_ten_percent(
    tip: int, fee_cap: int, accepted: bool
) -> None:
    pool = Mempool()
    old = add(pool, 0, 0, tip=OLD_TIP, fee_cap=OLD_CAP)

    if accepted:
        new = add(pool, 0, 0, tip=tip, fee_cap=fee_cap, value=1)
        assert new.replaced == old.hash
        assert (old.hash in pool, new.hash in pool, len(pool)) == (False, True, 1)
        assert [e.transaction.value for e in pool.select(BASE_FEE, BLOCK_GAS)] == [1]
    else:
        reason = refusal(pool, 0, 0, tip=tip, fee_cap=fee_cap, value=1)
        assert reason == "replacement transaction underpriced"
        assert old.hash in pool


def test_the_replacement_bump_is_configurable() -> None:
    pool = Mempool(PoolLimits(price_bump_percent=50))
    add(pool, 0, 0, tip=OLD_TIP, fee_cap=OLD_CAP)

    assert (
        refusal(pool, 0, 0, tip=14 * GWEI, fee_cap=29 * GWEI)
        == "replacement transaction underpriced"
    )
    add(pool, 0, 0, tip=15 * GWEI, fee_cap=30 * GWEI)


def test_a_replacement_in_a_full_pool_evicts_nothing() -> None:
    pool = Mempool(PoolLimits(max_total=2))
    add(pool, 0, 0)
    add(pool, 1, 0)

    add(pool, 0, 0, tip=2 * GWEI, fee_cap=4 * GWEI)

    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(A, 0), (B, 0)]


# --- the total limit -----------------------------------------------------------------------------


def full_pool() -> Mempool:
    """A pool at its limit of 3: A pays a 1 gwei tip, B 3 gwei, C 2 gwei."""
    pool = Mempool(PoolLimits(max_total=3))
    add(pool, 0, 0, tip=1 * GWEI, fee_cap=5 * GWEI)
    add(pool, 1, 0, tip=3 * GWEI, fee_cap=5 * GWEI)
    add(pool, 2, 0, tip=2 * GWEI, fee_cap=5 * GWEI)
    return pool


def test_a_newcomer_that_pays_more_evicts_the_cheapest_other_sender() -> None:
    pool = full_pool()

    add(pool, 3, 0, tip=GWEI + 1, fee_cap=5 * GWEI)

    assert len(pool) == 3
    assert sorted(picked(pool.select(BASE_FEE, BLOCK_GAS))) == sorted([(B, 0), (C, 0), (D, 0)])


@pytest.mark.parametrize("tip", [GWEI, GWEI // 2])
def test_a_newcomer_that_pays_no_more_than_the_cheapest_is_refused(tip: int) -> None:
    pool = full_pool()

    assert refusal(pool, 3, 0, tip=tip, fee_cap=5 * GWEI) == "txpool is full"
    assert {entry.sender for entry in pool.select(BASE_FEE, BLOCK_GAS)} == {A, B, C}


def test_eviction_takes_the_tail_of_the_victim() -> None:
    pool = Mempool(PoolLimits(max_total=3))
    add(pool, 0, 0, tip=1 * GWEI, fee_cap=5 * GWEI)
    add(pool, 0, 1, tip=1 * GWEI, fee_cap=5 * GWEI)
    add(pool, 1, 0, tip=3 * GWEI, fee_cap=5 * GWEI)

    add(pool, 3, 0, tip=2 * GWEI, fee_cap=5 * GWEI)

    assert sorted(picked(pool.select(BASE_FEE, BLOCK_GAS))) == sorted([(A, 0), (B, 0), (D, 0)])


def test_eviction_compares_effective_tips_at_the_base_fee() -> None:
    base_fee = Wei(3 * GWEI // 2)
    pool = Mempool(PoolLimits(max_total=2))
    state = FakeAccounts()
    # A's nominal tip is the highest, but at this base fee it keeps only 0.5 gwei.
    pool.add(tx(0, 0, tip=2 * GWEI, fee_cap=2 * GWEI), b"", state, base_fee)
    pool.add(tx(1, 0, tip=1 * GWEI, fee_cap=10 * GWEI), b"", state, base_fee)

    pool.add(tx(3, 0, tip=GWEI * 8 // 10, fee_cap=10 * GWEI), b"", state, base_fee)

    assert {entry.sender for entry in pool.select(base_fee, BLOCK_GAS)} == {B, D}


def test_a_sender_never_evicts_its_own_transactions() -> None:
    pool = Mempool(PoolLimits(max_total=2))
    add(pool, 0, 0, tip=1)
    add(pool, 0, 1, tip=1)

    assert refusal(pool, 0, 2, tip=GWEI) == "txpool is full"


def test_queued_transactions_are_evicted_before_pending_ones() -> None:
    pool = Mempool(PoolLimits(max_total=2))
    add(pool, 0, 0, tip=1 * GWEI, fee_cap=5 * GWEI)  # pending, cheap
    add(pool, 1, 5, tip=2 * GWEI, fee_cap=5 * GWEI)  # queued behind a gap

    add(pool, 3, 0, tip=3 * GWEI, fee_cap=5 * GWEI)

    _, queued = pool.pending_and_queued()
    assert queued == {}
    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(D, 0), (A, 0)]


def test_a_newcomer_outbidding_only_a_pending_transaction_evicts_that_one() -> None:
    pool = Mempool(PoolLimits(max_total=2))
    add(pool, 0, 0, tip=1 * GWEI, fee_cap=5 * GWEI)  # pending, cheapest
    add(pool, 1, 5, tip=3 * GWEI, fee_cap=5 * GWEI)  # queued, but pays more than the newcomer

    add(pool, 3, 0, tip=2 * GWEI, fee_cap=5 * GWEI)

    pending, queued = pool.pending_and_queued()
    assert set(pending) == {D} and set(queued) == {B}


def test_a_refused_sender_leaves_nothing_behind() -> None:
    pool = Mempool()
    for index in range(3):
        refusal(pool, index, 0, FakeAccounts(balances={KEYS[index].address: 0}))
    assert pool._account_nonce == {}


# --- select --------------------------------------------------------------------------------------


def test_select_orders_senders_by_tip() -> None:
    pool = Mempool()
    add(pool, 0, 0, tip=1 * GWEI, fee_cap=5 * GWEI)
    add(pool, 1, 0, tip=3 * GWEI, fee_cap=5 * GWEI)
    add(pool, 2, 0, tip=2 * GWEI, fee_cap=5 * GWEI)

    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(B, 0), (C, 0), (A, 0)]


def test_select_keeps_nonce_order_within_a_sender() -> None:
    pool = Mempool()
    add(pool, 0, 1, tip=5 * GWEI, fee_cap=9 * GWEI)  # pays most, but waits for nonce 0
    add(pool, 0, 0, tip=1 * GWEI, fee_cap=9 * GWEI)
    add(pool, 1, 0, tip=3 * GWEI, fee_cap=9 * GWEI)

    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(B, 0), (A, 0), (A, 1)]


def test_select_orders_by_effective_tip_at_the_base_fee() -> None:
    pool = Mempool()
    add(pool, 0, 0, tip=2 * GWEI, fee_cap=2 * GWEI)  # 0.5 gwei at a 1.5 gwei base fee
    add(pool, 1, 0, tip=1 * GWEI, fee_cap=10 * GWEI)  # 1 gwei

    assert picked(pool.select(Wei(3 * GWEI // 2), BLOCK_GAS)) == [(B, 0), (A, 0)]
    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(A, 0), (B, 0)]


def test_equal_tips_go_first_come_first_served() -> None:
    pool = Mempool()
    add(pool, 2, 0)
    add(pool, 0, 0)
    add(pool, 1, 0)

    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(C, 0), (A, 0), (B, 0)]


def test_select_stops_a_sender_at_a_gap() -> None:
    pool = Mempool()
    for nonce in (0, 1, 3, 4):
        add(pool, 0, nonce)

    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(A, 0), (A, 1)]


def test_select_skips_what_does_not_fit_and_goes_on_with_others() -> None:
    pool = Mempool()
    add(pool, 1, 0, tip=3 * GWEI, fee_cap=9 * GWEI)  # 21000
    add(pool, 0, 0, tip=2 * GWEI, fee_cap=9 * GWEI, gas=40_000)  # does not fit after B
    add(pool, 0, 1, tip=2 * GWEI, fee_cap=9 * GWEI)  # stuck behind it
    add(pool, 2, 0, tip=1 * GWEI, fee_cap=9 * GWEI)  # fits

    assert picked(pool.select(BASE_FEE, Gas(60_000))) == [(B, 0), (C, 0)]
    assert picked(pool.select(BASE_FEE, Gas(20_999))) == []


def test_select_excludes_tips_below_zero_at_the_base_fee() -> None:
    pool = Mempool()
    add(pool, 0, 0, tip=1, fee_cap=2 * GWEI)
    add(pool, 0, 1, tip=1, fee_cap=9 * GWEI)  # affordable, but behind nonce 0
    add(pool, 1, 0, tip=1, fee_cap=9 * GWEI)

    assert picked(pool.select(Wei(3 * GWEI), BLOCK_GAS)) == [(B, 0)]
    # At a base fee equal to A's fee cap, A's tip is zero: still taken, after B.
    assert picked(pool.select(Wei(2 * GWEI), BLOCK_GAS)) == [(B, 0), (A, 0), (A, 1)]


def test_select_takes_nothing_from_an_empty_pool() -> None:
    assert Mempool().select(BASE_FEE, BLOCK_GAS) == []


# --- a new head ----------------------------------------------------------------------------------


def test_a_new_head_drops_used_nonces_and_keeps_the_rest_pending() -> None:
    pool = Mempool()
    for nonce in (0, 1, 2):
        add(pool, 0, nonce)
    add(pool, 1, 0)

    dropped = pool.on_new_head(FakeAccounts(nonces={A: 2}))

    assert dropped == 2
    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(A, 2), (B, 0)]
    assert pool.pending_nonce(A, 2) == 3


def test_a_new_head_drops_what_the_sender_can_no_longer_pay() -> None:
    pool = Mempool()
    cheap = add(pool, 0, 0)
    dear = add(pool, 0, 1, value=ETHER // 2)

    dropped = pool.on_new_head(FakeAccounts(balances={A: COST + ETHER // 4}))

    assert dropped == 1
    assert (cheap.hash in pool, dear.hash in pool) == (True, False)


def test_a_new_head_counts_what_earlier_transactions_already_spend() -> None:
    pool = Mempool()
    first = add(pool, 0, 0)
    second = add(pool, 0, 1)
    third = add(pool, 0, 2)

    # Each alone is affordable; together only the first two are.
    dropped = pool.on_new_head(FakeAccounts(balances={A: 2 * COST + COST // 2}))

    assert dropped == 1
    assert (first.hash in pool, second.hash in pool, third.hash in pool) == (True, True, False)


def test_a_new_head_checks_only_the_senders_it_is_given() -> None:
    pool = Mempool()
    add(pool, 0, 0)
    add(pool, 1, 0)
    state = FakeAccounts(nonces={A: 1, B: 1})

    assert pool.on_new_head(state, senders=[A]) == 1
    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(B, 0)]
    assert pool.on_new_head(state) == 1
    assert len(pool) == 0


def test_a_promoted_queue_becomes_pending_after_a_new_head() -> None:
    pool = Mempool()
    add(pool, 0, 1)  # queued: the account is at nonce 0

    pool.on_new_head(FakeAccounts(nonces={A: 1}))

    pending, queued = pool.pending_and_queued()
    assert ([e.nonce for e in pending[A]], queued) == ([1], {})
    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == [(A, 1)]


def test_remove_drops_one_transaction() -> None:
    pool = Mempool()
    first = add(pool, 0, 0)
    add(pool, 0, 1)

    assert pool.remove(first.hash) and not pool.remove(first.hash)
    assert len(pool) == 1
    assert picked(pool.select(BASE_FEE, BLOCK_GAS)) == []


# --- select, as a property -----------------------------------------------------------------------

pool_entries = st.lists(
    st.tuples(
        st.integers(0, 2),  # sender
        st.integers(0, 4),  # nonce
        st.sampled_from([GWEI // 2, GWEI, 2 * GWEI]),  # tip
        st.sampled_from([2 * GWEI, 3 * GWEI]),  # fee cap
        st.sampled_from([21_000, 50_000]),  # gas
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    entries=pool_entries,
    account_nonces=st.lists(st.integers(0, 1), min_size=3, max_size=3),
    base_fee=st.sampled_from([GWEI, 5 * GWEI // 2]),
    gas_limit=st.sampled_from([100_000, 30_000_000]),
)
def test_select_gives_each_sender_a_gapless_affordable_run_within_the_gas_limit(
    entries: list[tuple[int, int, int, int, int]],
    account_nonces: list[int],
    base_fee: int,
    gas_limit: int,
) -> None:
    pool = Mempool()
    state = FakeAccounts(nonces={KEYS[i].address: n for i, n in enumerate(account_nonces)})
    for sender, nonce, tip, fee_cap, gas in entries:
        with contextlib.suppress(InvalidTransaction):
            add(pool, sender, nonce, state, tip=tip, fee_cap=fee_cap, gas=gas)

    selection = pool.select(Wei(base_fee), Gas(gas_limit))

    assert sum(entry.transaction.gas for entry in selection) <= gas_limit
    assert all(compute_effective_tip(entry.transaction, base_fee) >= 0 for entry in selection)
    for index, sender in enumerate(KEYS[:3]):
        nonces = [entry.nonce for entry in selection if entry.sender == sender.address]
        first = account_nonces[index]
        assert nonces == list(range(first, first + len(nonces)))
    if gas_limit == 30_000_000:
        # With room for everything, each sender's pending run is taken up to its first
        # transaction that cannot pay the base fee.
        expected = []
        for run in pool.pending_and_queued()[0].values():
            for entry in run:
                if compute_effective_tip(entry.transaction, base_fee) < 0:
                    break
                expected.append((entry.sender, entry.nonce))
        assert sorted(picked(selection)) == sorted(expected)
