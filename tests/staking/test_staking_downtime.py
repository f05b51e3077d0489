"""Downtime: too few commits signed over the window jails and slashes; unjail after the wait."""

from dataclasses import replace
from pathlib import Path

from staking_helpers import (
    KEYS,
    PARAMS,
    STAKE,
    VALIDATORS,
    StakingChain,
    events,
    is_success,
    make_genesis,
)

from openledger.genesis.model import STAKING_ADDRESS

V0, V1, V2, V3 = VALIDATORS
OTHERS = (V0, V1, V2)
SLASH = STAKE * PARAMS.downtime_slash_bps // 10_000


def jailed(chain: StakingChain, validator: bytes) -> tuple[bool, int]:
    record = chain.view("getValidator", validator)
    return record[4], record[5]


def test_missing_every_commit_of_a_full_window_jails_and_slashes(chain: StakingChain) -> None:
    chain.mine()
    # Blocks 2..8 record V3 missing the commits of blocks 1..7: seven of a window of eight.
    chain.mine_until(8, signers=OTHERS)
    assert jailed(chain, V3) == (False, 0)
    supply = chain.balance(STAKING_ADDRESS)

    chain.mine(signers=OTHERS)  # block 9 records the eighth miss

    assert jailed(chain, V3) == (True, 9 + PARAMS.downtime_jail_blocks)
    assert chain.view("getValidator", V3)[1] == STAKE - SLASH
    # The slash is burned: the precompile gained the block reward and lost the slash.
    assert chain.balance(STAKING_ADDRESS) == supply + PARAMS.block_reward - SLASH
    assert jailed(chain, V2) == (False, 0)


def test_signing_half_the_window_is_enough_and_less_is_not(chain: StakingChain) -> None:
    chain.mine()
    for block in range(2, 11):  # V3 misses the commits of even blocks: half of any window
        chain.mine(signers=VALIDATORS if block % 2 else OTHERS)
    assert jailed(chain, V3)[0] is False

    chain.mine(signers=OTHERS)  # block 11: five misses among the last eight commits

    assert jailed(chain, V3) == (True, 11 + PARAMS.downtime_jail_blocks)


def test_a_jailed_validator_is_not_paid_and_leaves_the_set_at_the_boundary(
    chain: StakingChain,
) -> None:
    chain.mine()
    chain.mine_until(9, signers=OTHERS)  # V3 jailed in block 9
    owed = chain.view("pendingRewards", V3)

    chain.mine(signers=VALIDATORS)  # block 10: V3's signature earns nothing now
    assert chain.view("pendingRewards", V3) == owed
    chain.mine(signers=VALIDATORS)
    assert V3 in [v.address for v in chain.validator_set().validators]
    chain.mine(signers=VALIDATORS)  # block 12, a boundary

    assert V3 not in [v.address for v in chain.validator_set().validators]
    assert chain.view("getValidator", V3)[7] is False


def test_unjail_is_refused_until_the_jail_time_has_passed(chain: StakingChain) -> None:
    chain.mine()
    chain.mine_until(9, signers=OTHERS)
    until = 9 + PARAMS.downtime_jail_blocks
    chain.mine_until(until - 2, signers=OTHERS)

    early = chain.revert_reason(V3, "unjail")  # would be in block until - 1
    refused = chain.send(KEYS[3], "unjail", signers=OTHERS)
    assert f"is jailed until block {until}" in early
    assert not is_success(refused)

    receipt = chain.send(KEYS[3], "unjail", signers=OTHERS)  # block `until`

    assert chain.head.block_number == until
    assert is_success(receipt)
    assert events(receipt) == [("Unjailed", {"validator": V3})]
    assert chain.view("getValidator", V3)[4] is False
    # Back in the set from the next boundary (block 16) on, with its slashed stake as power.
    chain.mine_until(16)
    assert chain.validator_set().get_power(V3) == STAKE - SLASH
    assert chain.validator_set().start_height == 17


def test_unjail_needs_a_jailed_validator_with_enough_self_stake(chain: StakingChain) -> None:
    assert "is not jailed" in chain.revert_reason(V3, "unjail")
    assert "is not a registered validator" in chain.revert_reason(KEYS[6].address, "unjail")

    chain.mine()
    chain.mine_until(9, signers=OTHERS)
    chain.send(KEYS[3], "undelegate", V3, STAKE - SLASH - PARAMS.min_validator_stake + 1,
               signers=OTHERS)  # fmt: skip
    chain.mine_until(20, signers=OTHERS)

    assert "delegate to yourself first" in chain.revert_reason(V3, "unjail")


def test_a_newcomer_gets_a_full_window_before_it_can_be_jailed(chain: StakingChain) -> None:
    newcomer = KEYS[4]
    chain.mine()
    chain.send(newcomer, "registerValidator", 0, value=200 * PARAMS.min_delegation)  # signs from 5
    chain.mine_until(4)

    # Its first commit (block 5's) is recorded in block 6; the eighth in block 13.
    chain.mine_until(12, signers=VALIDATORS)
    assert jailed(chain, newcomer.address) == (False, 0)
    chain.mine(signers=VALIDATORS)

    assert jailed(chain, newcomer.address) == (True, 13 + PARAMS.downtime_jail_blocks)


def test_an_unjailed_validator_is_paid_again_and_gets_a_fresh_window(tmp_path: Path) -> None:
    params = replace(PARAMS, epoch_length=32, downtime_jail_blocks=2)
    chain = StakingChain.open(tmp_path / "chain", make_genesis(params))
    try:
        chain.mine()
        chain.mine_until(10, signers=OTHERS)  # jailed in block 9 until block 11
        assert is_success(chain.send(KEYS[3], "unjail", signers=OTHERS))  # block 11
        owed = chain.view("pendingRewards", V3)

        chain.mine(signers=VALIDATORS)  # block 12 pays block 11's commit, V3's signature too
        assert chain.view("pendingRewards", V3) == owed + params.block_reward // 4

        # Its record restarted at unjail: the commits of blocks 11..18 are a full window,
        # recorded by block 19; missing all but the first jails it then, not earlier.
        chain.mine_until(18, signers=OTHERS)
        assert jailed(chain, V3)[0] is False
        chain.mine(signers=OTHERS)
        assert jailed(chain, V3) == (True, 19 + params.downtime_jail_blocks)
    finally:
        chain.close()


def test_misses_that_left_the_window_no_longer_count(chain: StakingChain) -> None:
    chain.mine()
    chain.mine_until(5, signers=OTHERS)  # blocks 2..5 record four misses
    chain.mine_until(13, signers=VALIDATORS)  # eight signed commits push them out of the window
    chain.mine_until(16, signers=OTHERS)  # three new misses: three of the last eight

    assert jailed(chain, V3)[0] is False
    chain.mine(signers=OTHERS)  # a fourth: still half of the window signed
    assert jailed(chain, V3)[0] is False
    chain.mine(signers=OTHERS)  # a fifth: below half

    assert jailed(chain, V3) == (True, 18 + PARAMS.downtime_jail_blocks)
