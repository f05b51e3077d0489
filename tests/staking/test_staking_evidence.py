"""Double-sign evidence: verified on chain, slashes and tombstones once, pays the reporter."""

from collections.abc import Callable
from dataclasses import replace

import pytest
from staking_helpers import (
    CHAIN_ID,
    KEYS,
    PARAMS,
    STAKE,
    VALIDATORS,
    StakingChain,
    events,
    fee_paid,
    is_success,
    sign_double_vote,
)

from openledger.consensus.messages import NIL, Vote, VoteKind
from openledger.consensus.signing import sign_vote
from openledger.consensus.staking.jail import get_benched
from openledger.consensus.tally import VoteTally, apply_vote
from openledger.genesis.model import ETHER, STAKING_ADDRESS
from openledger.genesis.types import BlockNumber, Round

V3 = VALIDATORS[3]
OFFENDER = KEYS[3]
REPORTER = KEYS[7]
DELEGATOR = KEYS[5]
FOREVER = 2**64 - 1
SLASH_BPS, REWARD_BPS = PARAMS.double_sign_slash_bps, PARAMS.evidence_reward_bps


def test_an_equivocating_validators_two_votes_become_evidence_that_slashes_and_jails_once(
    chain: StakingChain,
) -> None:
    chain.mine()
    chain.send(DELEGATOR, "delegate", V3, value=100 * ETHER)  # block 2
    # Block 3 is being decided; V3 precommits two different blocks and the tally catches it.
    validator_set = chain.validator_set()
    tally = VoteTally.empty(BlockNumber(3), validator_set)
    first, second = (
        sign_vote(OFFENDER.private_key, chain_id=CHAIN_ID, height=BlockNumber(3), round=Round(0),
                  kind=VoteKind.PRECOMMIT, block_hash=block_hash)
        for block_hash in (b"\x01" * 32, b"\x02" * 32)
    )  # fmt: skip
    tally, nothing = apply_vote(tally, first, Round(0))
    tally, equivocation = apply_vote(tally, second, Round(0))
    assert nothing is None and equivocation is not None
    chain.mine()  # block 3
    evidence = (equivocation.vote_a.encode(), equivocation.vote_b.encode())
    before = chain.balance(REPORTER.address), chain.balance(STAKING_ADDRESS)

    receipt = chain.send(REPORTER, "submitDoubleSignEvidence", *evidence)  # block 4

    slashed = (STAKE + 100 * ETHER) * SLASH_BPS // 10_000
    reward = slashed * REWARD_BPS // 10_000
    assert is_success(receipt)
    assert events(receipt) == [
        ("Slashed", {"validator": V3, "reporter": REPORTER.address, "offenceHeight": 3,
                     "amount": slashed, "reporterReward": reward}),
        ("Jailed", {"validator": V3, "untilBlock": FOREVER}),
    ]  # fmt: skip
    assert chain.view("getValidator", V3)[1:7] == (
        STAKE + 100 * ETHER - slashed, STAKE * 95 // 100, 10_000, True, FOREVER, True,
    )  # fmt: skip
    # Delegators lose the same share as the validator.
    assert chain.view("getDelegation", DELEGATOR.address, V3)[0] == 95 * ETHER
    assert chain.balance(REPORTER.address) == before[0] + reward - fee_paid(chain, receipt)
    # The reporter's reward left the precompile; the rest of the slash was burned.
    assert chain.balance(STAKING_ADDRESS) == before[1] + PARAMS.block_reward - slashed
    assert chain.view("isOffenceProcessed", V3, 3) is True
    # Block 4 is a boundary: V3 is out of the set that signs block 5, and once that set signs
    # it no longer needs to be skipped by payments.
    assert V3 not in [v.address for v in chain.validator_set().validators]
    assert get_benched(chain.ledger()) == {V3}
    chain.mine()
    assert get_benched(chain.ledger()) == frozenset()

    # Slashed once: the same offence again, or another one, is refused.
    again = chain.revert_reason(REPORTER.address, "submitDoubleSignEvidence", *evidence)
    resent = chain.send(REPORTER, "submitDoubleSignEvidence", *evidence)
    other = sign_double_vote(OFFENDER, 2)
    assert "the offence of 0x" in again and "at height 3 was already slashed" in again
    assert not is_success(resent)
    assert "already tombstoned" in chain.revert_reason(
        REPORTER.address, "submitDoubleSignEvidence", *other
    )
    assert "can never unjail" in chain.revert_reason(V3, "unjail")
    assert chain.view("getValidator", V3)[1] == STAKE + 100 * ETHER - slashed


@pytest.mark.parametrize(
    ("kind", "hashes"),
    [(VoteKind.PREVOTE, (b"\x03" * 32, b"\x04" * 32)), (VoteKind.PRECOMMIT, (NIL, b"\x05" * 32))],
    ids=["prevotes", "nil-and-block"],
)
def test_prevote_equivocations_and_nil_against_a_block_are_offences_too(
    chain: StakingChain, kind: VoteKind, hashes: tuple[bytes, bytes]
) -> None:
    chain.mine_until(3)

    receipt = chain.send(
        REPORTER,
        "submitDoubleSignEvidence",
        *sign_double_vote(OFFENDER, 2, kind=kind, hashes=hashes),
    )

    assert is_success(receipt)
    assert events(receipt)[0][1]["amount"] == STAKE * SLASH_BPS // 10_000


def forged_signature() -> tuple[bytes, bytes]:
    good = sign_double_vote(OFFENDER, 5)
    by_other = sign_vote(KEYS[2].private_key, chain_id=CHAIN_ID, height=BlockNumber(5),
                         round=Round(0), kind=VoteKind.PRECOMMIT, block_hash=b"\xbb" * 32)  # fmt: skip
    vote_b = replace(Vote.decode(good[1]), signature=by_other.signature)
    return good[0], vote_b.encode()


def unrecoverable_signature() -> tuple[bytes, bytes]:
    vote_a, vote_b = sign_double_vote(OFFENDER, 5)
    broken = Vote.decode(vote_a)
    return replace(broken, signature=b"\x00" * 32 + broken.signature[32:]).encode(), vote_b


INVALID: list[tuple[str, Callable[[], tuple[bytes, bytes]], str]] = [
    ("same block", lambda: sign_double_vote(OFFENDER, 5, hashes=(b"\xaa" * 32,) * 2),
     "the votes are for the same block"),
    ("different heights", lambda: (sign_double_vote(OFFENDER, 5)[0], sign_double_vote(OFFENDER, 6)[1]),
     "the votes differ in height"),
    ("different rounds", lambda: (sign_double_vote(OFFENDER, 5)[0],
                                  sign_double_vote(OFFENDER, 5, round=1)[1]),
     "the votes differ in round"),
    ("different kinds", lambda: (sign_double_vote(OFFENDER, 5)[0],
                                 sign_double_vote(OFFENDER, 5, kind=VoteKind.PREVOTE)[1]),
     "the votes differ in kind"),
    ("different validators", lambda: (sign_double_vote(OFFENDER, 5)[0],
                                      sign_double_vote(KEYS[2], 5)[1]),
     "the votes differ in validator"),
    ("forged signature", forged_signature, "voteB signature: signed by 0x"),
    ("unrecoverable signature", unrecoverable_signature, "voteA signature: signature r is out"),
    ("other chain", lambda: sign_double_vote(OFFENDER, 5, chain_id=CHAIN_ID + 1),
     "voteA is for chain id 1338, this chain is 1337"),
    ("not a member at that height", lambda: sign_double_vote(KEYS[4], 3),
     "was not in the active set at height 3"),
    ("never a validator", lambda: sign_double_vote(KEYS[8], 5),
     "was not in the active set at height 5"),
    ("too old", lambda: sign_double_vote(OFFENDER, 2),
     "height 2 is more than 8 blocks (9) and more than 5 seconds (7) old"),
    ("future height", lambda: sign_double_vote(OFFENDER, 11), "height 11 is not before this block"),
    ("not a vote", lambda: (b"\x01\x02", sign_double_vote(OFFENDER, 5)[1]),
     "voteA is not a vote"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "build", "reason"), INVALID, ids=[case[0] for case in INVALID])
def test_invalid_evidence_is_refused_with_a_reason_and_changes_nothing(
    chain: StakingChain, case: str, build: Callable[[], tuple[bytes, bytes]], reason: str
) -> None:
    chain.mine()
    chain.send(KEYS[4], "registerValidator", 0, value=200 * ETHER)  # block 2; signs from 5
    chain.mine_until(10)
    vote_a, vote_b = build()

    refusal = chain.revert_reason(REPORTER.address, "submitDoubleSignEvidence", vote_a, vote_b)
    raw = chain.transaction(REPORTER, "submitDoubleSignEvidence", vote_a, vote_b)
    with_evidence, receipts = chain.execute([raw])
    without, _ = chain.execute([])

    assert reason in refusal, case
    assert refusal.startswith("staking: ")
    assert not is_success(receipts[0])
    assert chain.staking_fingerprint(with_evidence) == chain.staking_fingerprint(without)


def test_unbonding_since_the_offence_is_slashed_and_the_rest_is_not(chain: StakingChain) -> None:
    chain.mine()
    chain.send(DELEGATOR, "delegate", V3, value=100 * ETHER)  # block 2
    chain.send(DELEGATOR, "undelegate", V3, 10 * ETHER)  # block 3: before the offence
    chain.mine()  # block 4: V3 equivocates at this height
    chain.send(DELEGATOR, "undelegate", V3, 20 * ETHER)  # block 5: at stake at height 4

    receipt = chain.send(REPORTER, "submitDoubleSignEvidence", *sign_double_vote(OFFENDER, 4))
    chain.send(DELEGATOR, "undelegate", V3, 5 * ETHER)  # block 7: after the evidence

    bonded = (STAKE + 70 * ETHER) * SLASH_BPS // 10_000
    unbonding = 20 * ETHER * SLASH_BPS // 10_000
    assert events(receipt)[0][1]["amount"] == bonded + unbonding
    assert events(receipt)[0][1]["reporterReward"] == (bonded + unbonding) * REWARD_BPS // 10_000
    _, amounts, completions = chain.view("pendingWithdrawals", DELEGATOR.address)
    assert amounts == [10 * ETHER, 19 * ETHER, 5 * ETHER]
    # 70 OPEN slashed to 66.5, less the 5 undelegated; shares leave rounded up (one wei here),
    # so those who stay never lose to rounding.
    assert (
        chain.view("getDelegation", DELEGATOR.address, V3)[0]
        == 66_500 * ETHER // 1000 - 5 * ETHER - 1
    )

    chain.mine_until(completions[-1] - 1)
    before = chain.balance(DELEGATOR.address)
    paid = chain.send(DELEGATOR, "withdraw")

    assert chain.balance(DELEGATOR.address) == before + 34 * ETHER - fee_paid(chain, paid)
