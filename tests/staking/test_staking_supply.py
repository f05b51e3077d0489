"""Across a busy run: no value is created or destroyed but by the rules, the precompile can pay
everything it owes, and a second node re-executing the blocks reaches the same state roots."""

from pathlib import Path

from staking_helpers import (
    KEYS,
    PARAMS,
    PROPOSER,
    STAKE,
    VALIDATORS,
    StakingChain,
    events,
    is_success,
    make_genesis,
    sign_double_vote,
)

from openledger.consensus.staking.bonds import get_unbonding_entries
from openledger.consensus.staking.ledger import TOKENS
from openledger.consensus.staking.rewards import compute_power_acc, get_pending_rewards
from openledger.genesis.model import ETHER, STAKING_ADDRESS
from openledger.genesis.types import Address
from openledger.node.chainspec import build_genesis
from openledger.state.execute import import_block
from openledger.state.fork import BlockInputs

V0, V1, V2, V3 = VALIDATORS
V1_KEY, NEWCOMER, DELEGATOR, REPORTER = KEYS[1], KEYS[4], KEYS[5], KEYS[7]
ACCOUNTS = tuple(key.address for key in KEYS)


def test_supply_changes_only_by_rewards_slashes_and_base_fees(tmp_path: Path) -> None:
    genesis = make_genesis()
    chain = StakingChain.open(tmp_path / "a", genesis)
    inputs: list[tuple[Address, ...]] = []

    def mine(*raws: bytes) -> list:  # type: ignore[type-arg]
        signers = tuple(a for a in chain.default_signers() if a != V3)  # V3 is offline
        inputs.append(signers)
        return chain.mine(raws, signers=signers)

    try:
        mine()
        mine(chain.transaction(NEWCOMER, "registerValidator", 300, value=200 * ETHER))
        mine(chain.transaction(DELEGATOR, "delegate", V0, value=50 * ETHER))
        mine(chain.transaction(DELEGATOR, "undelegate", V0, 20 * ETHER))
        mine()
        evidence = mine(chain.transaction(REPORTER, "submitDoubleSignEvidence",
                                          *sign_double_vote(KEYS[2], 5)))[0]  # fmt: skip
        mine(chain.transaction(DELEGATOR, "delegate", V2, value=10 * ETHER))
        mine(chain.transaction(DELEGATOR, "claimRewards"))
        while chain.head.block_number < 14:
            mine()
        withdrawal = mine(chain.transaction(DELEGATOR, "withdraw"))[0]
        mine(chain.transaction(V1_KEY, "claimRewards"))
        mine()
        assert is_success(evidence) and is_success(withdrawal)
        assert chain.view("getValidator", V3)[4] is True  # jailed for downtime in block 9

        # Conservation: the genesis supply, plus every block reward from block 2 on, less the
        # slashes burned and the base fees burned.
        slash = events(evidence)[0][1]
        burned_slashes = STAKE * PARAMS.downtime_slash_bps // 10_000 + (
            slash["amount"] - slash["reporterReward"]
        )
        headers = [chain.store.get_header(n) for n in range(1, chain.head.block_number + 1)]
        base_fees = sum(h.gas_used * h.base_fee_per_gas for h in headers if h is not None)
        minted = PARAMS.block_reward * (chain.head.block_number - 1)
        supply = sum(account.balance for _, account in build_genesis(genesis).alloc)
        assert PROPOSER in ACCOUNTS  # priority fees stay among the accounts summed
        balances = sum(chain.balance(a) for a in (*ACCOUNTS, STAKING_ADDRESS))
        assert balances == supply + minted - burned_slashes - base_fees

        # Solvency: the precompile holds every bonded and unbonding wei and every unpaid reward;
        # what is left over is sub-wei dust of the reward accounting (a few wei at most).
        ledger = chain.ledger()
        owed = sum(ledger.get(TOKENS, v) for v in ledger.get_validators())
        owed += sum(e.amount for a in ACCOUNTS for e in get_unbonding_entries(ledger, a))
        acc, _ = compute_power_acc(ledger, PARAMS.block_reward, chain.head.block_number)
        owed += sum(get_pending_rewards(ledger, a, acc) for a in ACCOUNTS)
        assert 0 <= chain.balance(STAKING_ADDRESS) - owed <= 10

        # Determinism: another node importing the same blocks reaches the same state roots.
        replica = StakingChain.open(tmp_path / "b", genesis)
        try:
            for number, signers in enumerate(inputs, start=1):
                header = chain.store.get_header(number)
                assert header is not None
                block = chain.store.get_block(header)
                executed = import_block(replica.chain, replica.store.db, replica.head, block,
                                        BlockInputs(PROPOSER, signers))  # fmt: skip
                replica.store.commit(executed, None)
                assert replica.head.state_root == header.state_root
        finally:
            replica.close()
    finally:
        chain.close()
