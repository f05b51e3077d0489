"""Epochs and the choice of the active set.

Epoch `e` (from 0) is the blocks `e * epoch_length + 1 .. (e + 1) * epoch_length`; its last block
is a boundary. At the end of a boundary block `B` (after its transactions) the active set is
chosen again from the state after those transactions, and it signs from block `B + 1`, the first
block of the next epoch. So a stake change included in block `H` counts in the set that signs from
block `epoch_length * ceil(H / epoch_length) + 1` on, and so does jailing or unjailing for
membership (a jailed member stops being paid at once, `jail`). Genesis validators sign
epoch 0.

The active set is the top `max_validators` eligible validators by bonded stake (ties: the lower
address first). Eligible: not jailed, self-stake at least `min_validator_stake`. Each member's
power is its bonded stake at the boundary, fixed until the next one. When no validator is eligible
the set in force stays, so the chain never loses its last signers.
"""

from eth.abc import StateAPI

from openledger.consensus.staking.bonds import get_self_stake
from openledger.consensus.staking.ledger import TOKENS, Ledger
from openledger.consensus.staking.sets import get_current_set, install_active_set
from openledger.consensus.validators import Validator, ValidatorSet
from openledger.genesis.model import STAKING_ADDRESS, StakingParams
from openledger.genesis.types import BlockNumber
from openledger.state.precompile import Storage


def read_validator_set(state: StateAPI, params: StakingParams) -> ValidatorSet:
    """The validator set that signs the block after the block whose post-state is `state`.

    It is the active set chosen at the last epoch boundary (or at genesis), with `start_height`
    the first height it signs, so `compute_proposer` rotates from there. `params` are the chain's
    staking parameters; the stored set does not depend on them today. Raises
    `InvalidValidatorSet` when the state has no active set (a genesis built without
    `staking_genesis_account`).
    """
    active = get_current_set(Ledger(Storage(state, STAKING_ADDRESS)))
    return ValidatorSet.create(active.members, BlockNumber(active.start))


def compute_epoch(height: int, epoch_length: int) -> int:
    """The epoch of block `height` (genesis and block 1 are in epoch 0)."""
    return 0 if height == 0 else (height - 1) // epoch_length


def is_epoch_boundary(height: int, epoch_length: int) -> bool:
    """Whether the active set is chosen again at the end of block `height`."""
    return height > 0 and height % epoch_length == 0


def choose_active_set(ledger: Ledger, params: StakingParams) -> tuple[Validator, ...]:
    """The top `max_validators` eligible validators by bonded stake, sorted by address."""
    candidates = []
    for validator in ledger.get_validators():
        if ledger.is_jailed(validator):
            continue
        tokens = ledger.get(TOKENS, validator)
        if tokens and get_self_stake(ledger, validator) >= params.min_validator_stake:
            candidates.append(Validator(validator, tokens))
    candidates.sort(key=lambda member: (-member.power, member.address))
    return tuple(sorted(candidates[: params.max_validators], key=lambda member: member.address))


def process_epoch_boundary(ledger: Ledger, params: StakingParams, height: int) -> None:
    """Choose the set that signs from `height + 1` (at the end of boundary block `height`)."""
    chosen = choose_active_set(ledger, params)
    if chosen and chosen != get_current_set(ledger).members:
        install_active_set(ledger, chosen, height + 1)
