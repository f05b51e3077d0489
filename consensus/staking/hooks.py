"""What staking does in every block, and where the protocol share of inference fees goes.

`StakingHooks` runs around each block's transactions (the node passes the signers of the
parent's commit certificate in `BlockInputs`):

- before the transactions of block `H >= 2`:
  1. mint `block_reward` and pay it to the validators whose precommits are in the commit of
     block `H - 1` (members of the set that signed `H - 1`, not jailed), by their power in that
     set (`rewards`: each keeps its commission, the rest goes to its delegators, itself
     included, by shares). Block 1 mints nothing, as genesis has no commit; a commit with no paid
     signer mints nothing either;
  2. record who of that set missed the commit, and jail (and slash, burning the wei) those below
     the downtime minimum (`downtime`);
  3. if block `H` is the first signed by a new active set: move the earning periods to the new
     powers, start the newcomers' downtime records, and forget jailed members of the old set.
- after the transactions of a boundary block (number a multiple of `epoch_length`): record its
  timestamp (`EPOCH_TIME`, from which evidence ages in time) and choose the active set that signs
  from the next block (`epochs`).

`StakingRewardSink` receives the protocol share of an inference fee from the attribution
precompile: the share is part of the attribution precompile's balance when the sink is called;
the sink moves it to the staking precompile's balance and pays it like a block reward, to the
non-jailed members of the set signing the current block, by power.

A block in which the whole committee signed, nobody is jailed and no recent commit was missed
reads one word (the pulse) and mints; its reward is accounted lazily (`rewards`).
Otherwise a block's work grows with the validators that missed the commit or are jailed, never
with those that did their job. Every amount is an integer number of wei and every list is in address or
storage order: every node computes the same state root. Minting and burning change the staking
precompile's balance, so the sum of all balances always equals the genesis supply plus rewards
minted, less slashes burned and base fees burned.
"""

from eth.abc import BlockHeaderAPI, StateAPI

from openledger.consensus.staking.downtime import record_commit, reset_downtime_record
from openledger.consensus.staking.epochs import is_epoch_boundary, process_epoch_boundary
from openledger.consensus.staking.jail import get_benched, prune_benched
from openledger.consensus.staking.ledger import ACCOUNTED, EPOCH_TIME, POWER_ACC, Ledger
from openledger.consensus.staking.rewards import materialize, pay_committee, set_earning_power
from openledger.consensus.staking.sets import get_current_set, get_previous_set, get_signing_set
from openledger.consensus.validators import Validator
from openledger.genesis.model import ATTRIBUTION_ADDRESS, STAKING_ADDRESS, StakingParams
from openledger.genesis.types import Address
from openledger.state.fork import BlockInputs
from openledger.state.precompile import SLOT_READ_GAS, SLOT_WRITE_GAS, PrecompileRevert, Storage


class StakingHooks:
    """The block hooks of staking (`state.fork.BlockHooks`)."""

    def __init__(self, params: StakingParams) -> None:
        self.params = params

    def before_transactions(
        self, state: StateAPI, header: BlockHeaderAPI, inputs: BlockInputs
    ) -> None:
        """Pay the block reward for the parent's commit, record downtime, switch committees."""
        height = int(header.block_number)
        if height < 2:
            return
        ledger = _ledger(state)
        reward = self.params.block_reward
        current = get_current_set(ledger)
        switching = current.start == height
        committee = (get_previous_set(ledger) if switching else current).members
        signers = frozenset(inputs.last_commit_signers)
        pulse = ledger.get_pulse()
        if not committee:
            return  # no validators (a chain without staking genesis): nothing to pay or record
        full = not switching and not pulse.benched and all(m.address in signers for m in committee)
        if full and not pulse.missers:
            # Everyone signed and nobody is jailed: the reward is accounted lazily.
            if reward:
                state.delta_balance(STAKING_ADDRESS, reward)
            return
        benched = get_benched(ledger)
        if not full:
            materialize(ledger, reward, height - 1)
            unpaid = frozenset(m.address for m in committee if m.address not in signers) | benched
            if pay_committee(ledger, reward, committee, unpaid):
                state.delta_balance(STAKING_ADDRESS, reward)
            ledger.set(ACCOUNTED, to=height)
        elif reward:
            state.delta_balance(STAKING_ADDRESS, reward)
        burned = record_commit(ledger, self.params, height, committee, signers, benched)
        if burned:
            state.delta_balance(STAKING_ADDRESS, -burned)
        if switching:
            switch_committee(ledger, committee, current.members, height, ledger.get(POWER_ACC))

    def after_transactions(
        self, state: StateAPI, header: BlockHeaderAPI, inputs: BlockInputs
    ) -> None:
        """At an epoch boundary, record its timestamp (the age of evidence in time counts from
        it) and choose the set that signs from the next block."""
        height = int(header.block_number)
        if is_epoch_boundary(height, self.params.epoch_length):
            ledger = _ledger(state)
            ledger.set(EPOCH_TIME, height, to=int(header.timestamp))
            process_epoch_boundary(ledger, self.params, height)


def switch_committee(
    ledger: Ledger,
    old: tuple[Validator, ...],
    new: tuple[Validator, ...],
    height: int,
    power_acc: int,
) -> None:
    """Hand over from the committee `old` to `new`, which signs from block `height` on
    (`power_acc`: the accumulator with everything up to this block accounted)."""
    old_power = {member.address: member.power for member in old}
    new_addresses = frozenset(member.address for member in new)
    for member in old:
        if member.address not in new_addresses:
            set_earning_power(ledger, member.address, 0, power_acc)
    for member in new:
        if old_power.get(member.address) != member.power:
            set_earning_power(ledger, member.address, member.power, power_acc)
        if member.address not in old_power:
            reset_downtime_record(ledger, member.address, height)
    prune_benched(ledger, new_addresses)


SINK_GAS = 5 * SLOT_READ_GAS + 4 * SLOT_WRITE_GAS
"""What one `StakingRewardSink` call costs in the framework's prices, for the caller's schedule:
five words read (the pulse, the accounted block, the accumulator and its carry, the source's
balance), three written (the accumulator, its carry, the accounted block), and one more write per
benched member of the committee, at most one counted here (jailed members are rare)."""


class StakingRewardSink:
    """Pays the protocol share of inference fees to validators and delegators.

    Called as `sink(state, amount)` by the attribution precompile while it executes; `amount`
    wei must be in `source`'s balance (the attribution precompile's, by default). Raises
    `PrecompileRevert` when it cannot pay, which reverts the calling precompile. Its work is
    `SINK_GAS` for the caller's gas schedule.
    """

    gas = SINK_GAS
    """What one call costs, for the attribution precompile's gas schedule."""

    def __init__(self, params: StakingParams, source: Address = ATTRIBUTION_ADDRESS) -> None:
        self.params = params
        self.source = source

    def __call__(self, state: StateAPI, amount: int) -> None:
        if amount == 0:
            return
        balance = state.get_balance(self.source)
        if balance < amount:
            raise PrecompileRevert(
                f"protocol share {amount} exceeds the balance {balance} of 0x{self.source.hex()}"
            )
        ledger = _ledger(state)
        height = int(state.block_number)
        materialize(ledger, self.params.block_reward, height)
        committee = get_signing_set(ledger, height).members
        if not pay_committee(ledger, amount, committee, get_benched(ledger)):
            raise PrecompileRevert("no active validator can receive the protocol share")
        state.delta_balance(self.source, -amount)
        state.delta_balance(STAKING_ADDRESS, amount)


def _ledger(state: StateAPI) -> Ledger:
    return Ledger(Storage(state, STAKING_ADDRESS))
