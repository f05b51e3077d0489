"""Validator sets: invariants, thresholds, and stake-weighted proposer selection."""

import copy
import pickle
from collections import Counter

import pytest
from consensus_helpers import ADDRESSES, ETHER, OUTSIDER, V0, V1, V2, V3, make_set
from hypothesis import given
from hypothesis import strategies as st

from openledger.consensus.errors import ConsensusError, InvalidValidatorSet
from openledger.consensus.validators import Validator, ValidatorSet, compute_proposer
from openledger.genesis.types import Address, BlockNumber, Round


def reference_picks(powers: list[int], count: int) -> list[int]:
    """Smooth weighted round robin written the obvious way, to check the memoised one."""
    priorities = [0] * len(powers)
    picks = []
    for _ in range(count):
        priorities = [p + w for p, w in zip(priorities, powers, strict=True)]
        best = max(range(len(powers)), key=lambda i: (priorities[i], -i))
        priorities[best] -= sum(powers)
        picks.append(best)
    return picks


def proposers(validators: ValidatorSet, count: int, start: int = 1) -> list[Address]:
    return [compute_proposer(validators, BlockNumber(start + k), Round(0)) for k in range(count)]


def test_equal_powers_rotate_in_address_order() -> None:
    assert proposers(make_set([1, 1, 1, 1]), 8) == [V0, V1, V2, V3, V0, V1, V2, V3]


def test_smooth_weighted_round_robin_sequence_with_ties_to_the_lowest_address() -> None:
    # nginx's example: weights 5, 1, 1 give a a b a c a a (b beats c on the tie at pick 3).
    assert proposers(make_set([5, 1, 1]), 7) == [V0, V0, V1, V0, V2, V0, V0]


def test_weights_are_respected_over_every_window_of_total_power_picks() -> None:
    validators = make_set(
        [5 * ETHER // 10**17, 3 * ETHER // 10**17, 2 * ETHER // 10**17]
    )  # 50, 30, 20
    picks = proposers(validators, 300)
    for start in (0, 100, 200):
        assert Counter(picks[start : start + 100]) == {V0: 50, V1: 30, V2: 20}


def test_wei_scale_powers_are_weighed_exactly() -> None:
    validators = make_set([10**24 + 1, 10**24, 10**24])
    assert proposers(validators, 3) == [V0, V1, V2]


def test_round_and_height_share_one_pick_sequence() -> None:
    validators = make_set([3, 2, 1], start_height=100)
    sequence = [validators.validators[i].address for i in reference_picks([3, 2, 1], 12)]
    assert compute_proposer(validators, BlockNumber(100), Round(0)) == sequence[0]
    assert compute_proposer(validators, BlockNumber(100), Round(5)) == sequence[5]
    assert compute_proposer(validators, BlockNumber(103), Round(2)) == sequence[5]
    assert compute_proposer(validators, BlockNumber(111), Round(0)) == sequence[11]
    with pytest.raises(ConsensusError, match="starts at height 100"):
        compute_proposer(validators, BlockNumber(99), Round(0))


def test_memoised_lookups_match_the_reference_in_any_order() -> None:
    powers = [7, 5, 3, 2]
    expected = reference_picks(powers, 12_001)
    validators = make_set(powers)
    lookups = [12_000, 3, 9_000, 8_999, 11_000, 0, 4_500, 12_000, 1_024, 1_023]
    for pick in lookups:
        address = compute_proposer(validators, BlockNumber(1 + pick), Round(0))
        assert address == validators.validators[expected[pick]].address, pick
    fresh = make_set(powers)
    assert (
        compute_proposer(fresh, BlockNumber(1), Round(9_000))
        == validators.validators[expected[9_000]].address
    )


def test_long_lived_set_keeps_bounded_memory_and_correct_old_picks() -> None:
    powers = [2, 1]
    expected = reference_picks(powers, 70_001)
    validators = make_set(powers)
    for pick in (70_000, 100, 5_000, 69_999):
        address = compute_proposer(validators, BlockNumber(1), Round(pick))
        assert address == validators.validators[expected[pick]].address, pick
    schedule = validators._schedule
    assert len(schedule._checkpoints) <= 65 and len(schedule._picks) <= 4096


@given(st.lists(st.integers(min_value=1, max_value=10**20), min_size=1, max_size=4))
def test_deterministic_and_equal_to_the_reference(powers: list[int]) -> None:
    picks = reference_picks(powers, 30)
    a, b = make_set(powers), make_set(powers)
    assert proposers(a, 30) == proposers(b, 30) == [a.validators[i].address for i in picks]


@pytest.mark.parametrize(
    ("total", "quorum", "one_third_plus"),
    [
        (1, 1, 1),
        (3, 3, 2),
        (4, 3, 2),
        (6, 5, 3),
        (10, 7, 4),
        (100, 67, 34),
        (3 * ETHER, 2 * ETHER + 1, ETHER + 1),
    ],
)
def test_thresholds_are_strictly_more_than_two_thirds_and_one_third(
    total: int, quorum: int, one_third_plus: int
) -> None:
    validators = ValidatorSet((Validator(V0, total),))
    assert (validators.total_power, validators.quorum, validators.one_third_plus) == (
        total,
        quorum,
        one_third_plus,
    )
    assert validators.is_quorum(quorum) and not validators.is_quorum(quorum - 1)
    assert validators.is_one_third_plus(one_third_plus) and not validators.is_one_third_plus(
        one_third_plus - 1
    )


@given(st.integers(min_value=1, max_value=10**30))
def test_quorum_is_the_least_power_above_two_thirds(total: int) -> None:
    quorum = ValidatorSet((Validator(V0, total),)).quorum
    assert 3 * quorum > 2 * total >= 3 * (quorum - 1)


def test_membership_and_power() -> None:
    validators = make_set([5, 7])
    assert validators.get_power(V1) == 7
    assert validators.get_power(OUTSIDER) == 0
    assert validators.is_member(V0) and not validators.is_member(OUTSIDER)


def test_create_sorts_by_address() -> None:
    shuffled = [Validator(V2, 1), Validator(V0, 2), Validator(V1, 3)]
    validators = ValidatorSet.create(shuffled)
    assert [v.address for v in validators.validators] == [V0, V1, V2]
    assert validators == make_set([2, 3, 1])


@pytest.mark.parametrize(
    ("validators", "message"),
    [
        ((), "non-empty"),
        ((Validator(V1, 1), Validator(V0, 1)), "sorted by address"),
        ((Validator(V0, 1), Validator(V0, 2)), "appears twice"),
        ((Validator(V0, 0),), "has power 0"),
        ((Validator(V0, -5),), "has power -5"),
        ((Validator(V0, True),), "power must be an integer"),
        ((Validator(Address(b"\x01" * 19), 1),), "address must be 20 bytes"),
    ],
)
def test_broken_sets_are_refused(validators: tuple[Validator, ...], message: str) -> None:
    with pytest.raises(InvalidValidatorSet, match=message):
        ValidatorSet(validators)


def test_all_test_addresses_are_distinct_and_sorted() -> None:
    assert list(ADDRESSES) == sorted(set(ADDRESSES))


def test_sets_can_be_copied_and_pickled() -> None:
    validators = make_set([5, 3, 2])
    expected = proposers(validators, 5)
    for clone in (copy.deepcopy(validators), pickle.loads(pickle.dumps(validators))):
        assert clone == validators
        assert proposers(clone, 5) == expected
