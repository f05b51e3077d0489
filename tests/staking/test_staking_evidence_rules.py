"""The two evidence rules of issue 15: a double sign is slashed by the stake bonded at its height,
and evidence expires only when it is older than both `evidenceMaxAgeBlocks` and
`evidenceMaxAgeSeconds` (CometBFT's `MaxAgeNumBlocks` and `MaxAgeDuration`), and from
`unbondingBlocks` on whatever its age in time.

The helper chain makes a block one second after its parent unless told otherwise, so at one block
per second a height's age in seconds equals its age in blocks; epochs are 4 blocks, evidence is
refused in blocks after 8, unbonding lasts 10 blocks (`staking_helpers.PARAMS`).
"""

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from staking_helpers import (
    KEYS,
    PARAMS,
    STAKE,
    VALIDATORS,
    StakingChain,
    events,
    is_success,
    make_genesis,
    sign_double_vote,
)

from openledger.genesis.model import ETHER

V3 = VALIDATORS[3]
OFFENDER = KEYS[3]
DELEGATOR = KEYS[5]
REPORTER = KEYS[7]
SLASH_BPS = PARAMS.double_sign_slash_bps


@pytest.fixture
def open_chain(tmp_path: Path) -> Iterator[Callable[..., StakingChain]]:
    """Opens a staking chain whose `evidenceMaxAgeSeconds` the test chooses."""
    opened: list[StakingChain] = []

    def make(max_age_seconds: int = PARAMS.evidence_max_age_seconds) -> StakingChain:
        params = replace(PARAMS, evidence_max_age_seconds=max_age_seconds)
        chain = StakingChain.open(tmp_path / f"chain{len(opened)}", make_genesis(params))
        opened.append(chain)
        return chain

    yield make
    for chain in opened:
        chain.close()


def _slashed(chain: StakingChain, height: int) -> int | str:
    """Submit V3's double sign at `height` in the next block: the wei slashed, or the refusal."""
    votes = sign_double_vote(OFFENDER, height)
    result = chain.simulate(REPORTER.address, "submitDoubleSignEvidence", *votes)
    if not result.success:
        return chain.revert_reason(REPORTER.address, "submitDoubleSignEvidence", *votes)
    receipt = chain.send(REPORTER, "submitDoubleSignEvidence", *votes)
    assert is_success(receipt)
    ((name, fields), _jailed) = events(receipt)
    assert name == "Slashed" and fields["offenceHeight"] == height
    return int(fields["amount"])


# --- the stake at the offence height --------------------------------------------------------------


def test_stake_delegated_after_the_offence_does_not_raise_the_slash(chain: StakingChain) -> None:
    chain.mine_until(3)  # V3 double-signs at height 3, with its 1000 OPEN bonded
    chain.send(DELEGATOR, "delegate", V3, value=1000 * ETHER)  # block 4: stake doubles

    slashed = _slashed(chain, 3)  # block 5

    # 5% of the 1000 bonded at height 3, not of the 2000 bonded now.
    assert slashed == STAKE * SLASH_BPS // 10_000
    assert chain.view("getValidator", V3)[1] == 2 * STAKE - slashed


def test_a_validator_that_unbonds_everything_after_double_signing_still_loses_its_share(
    chain: StakingChain,
) -> None:
    chain.mine()
    chain.send(DELEGATOR, "delegate", V3, value=100 * ETHER)  # block 2
    chain.mine_until(4)  # V3 double-signs at height 4, with 1100 OPEN bonded
    chain.send(OFFENDER, "undelegate", V3, STAKE)  # block 5: all of its self-stake
    chain.send(DELEGATOR, "undelegate", V3, 100 * ETHER)  # block 6: and the delegation
    assert chain.view("getValidator", V3)[1] == 0

    slashed = _slashed(chain, 4)  # block 7

    # 5% of what was at stake at height 4, taken from the unbonding entries.
    assert slashed == (STAKE + 100 * ETHER) * SLASH_BPS // 10_000
    assert chain.view("pendingWithdrawals", OFFENDER.address)[1] == [STAKE * 95 // 100]
    assert chain.view("pendingWithdrawals", DELEGATOR.address)[1] == [95 * ETHER]


def test_unbonding_and_new_stake_after_the_offence_together_give_the_share_of_the_old_stake(
    chain: StakingChain,
) -> None:
    chain.mine_until(4)  # V3 double-signs at height 4 with 1000 bonded
    chain.send(OFFENDER, "undelegate", V3, 400 * ETHER)  # block 5: 600 left
    chain.send(DELEGATOR, "delegate", V3, value=900 * ETHER)  # block 6: 1500 bonded

    slashed = _slashed(chain, 4)  # block 7

    # 50 in all: 20 from the 400 unbonding (5% of it), the other 30 from the bonded stake.
    assert slashed == 50 * ETHER
    assert chain.view("pendingWithdrawals", OFFENDER.address)[1] == [380 * ETHER]
    assert chain.view("getValidator", V3)[1] == 1470 * ETHER


def test_a_downtime_slash_before_the_offence_lowers_the_stake_it_is_measured_on(
    chain: StakingChain,
) -> None:
    others = VALIDATORS[:3]
    chain.mine()
    chain.mine_until(9, signers=others)  # V3 misses commits: jailed and slashed 1% at block 9
    chain.mine()  # block 10; V3's double sign at height 10 (it is still in the set until 12)

    slashed = _slashed(chain, 10)  # block 11

    assert slashed == (STAKE - STAKE // 100) * SLASH_BPS // 10_000


# --- expiry by age in blocks and in time -------------------------------------------------------


def test_evidence_older_than_the_block_limit_but_younger_than_the_time_limit_is_accepted(
    open_chain: Callable[..., StakingChain],
) -> None:
    chain = open_chain(max_age_seconds=100)
    chain.mine_until(12)

    # 9 blocks old (more than 8) but 9 seconds old (not more than 100).
    assert _slashed(chain, 4) == STAKE * SLASH_BPS // 10_000


def test_evidence_younger_than_the_block_limit_but_older_than_the_time_limit_is_accepted(
    chain: StakingChain,
) -> None:
    chain.mine_until(4)
    chain.mine(seconds=3600)  # block 5, an hour later

    # 2 blocks old (not more than 8), about an hour old (more than 5 seconds).
    assert _slashed(chain, 4) == STAKE * SLASH_BPS // 10_000


@pytest.mark.parametrize(("max_age_seconds", "accepted"), [(8, False), (9, True)])
def test_evidence_older_than_both_limits_is_refused_and_the_time_limit_is_exact_at_a_boundary(
    open_chain: Callable[..., StakingChain], max_age_seconds: int, accepted: bool
) -> None:
    chain = open_chain(max_age_seconds=max_age_seconds)
    chain.mine_until(12)

    outcome = _slashed(chain, 4)  # height 4 is a boundary: its time is recorded exactly

    if accepted:
        assert outcome == STAKE * SLASH_BPS // 10_000
    else:
        assert outcome == (
            "staking: height 4 is more than 8 blocks (9) and more than 8 seconds (9) old"
        )


def test_evidence_is_refused_from_the_unbonding_period_on_whatever_its_age_in_time(
    open_chain: Callable[..., StakingChain],
) -> None:
    chain = open_chain(max_age_seconds=10**9)
    chain.mine_until(13)

    refusal = _slashed(chain, 4)  # in block 14: 10 blocks old, the unbonding period

    assert isinstance(refusal, str)
    assert "height 4 is 10 blocks old, not less than unbondingBlocks (10)" in refusal


def test_the_age_in_time_counts_from_the_first_boundary_at_or_after_the_offence(
    open_chain: Callable[..., StakingChain],
) -> None:
    # An hour passes between the offence (height 5) and the boundary that ends its epoch (8);
    # only the boundaries' times are kept, so the offence is taken to be as late as block 8 and
    # the evidence, 9 blocks and an hour old, counts as 6 seconds old: accepted (the rule errs
    # on the side of punishing, by at most one epoch's duration).
    chain = open_chain(max_age_seconds=50)
    chain.mine_until(5)
    chain.mine(seconds=3600)  # block 6
    chain.mine_until(13)

    assert _slashed(chain, 5) == STAKE * SLASH_BPS // 10_000
