"""Where the consensus host learns the validator set of a height.

The set that signs block H is decided by the state after block H-1 (the staking precompile's
active set, which changes only at epoch boundaries). `StakingValidators` reads it from there;
`GenesisValidators` is the fixed set of a chain without staking.
"""

from typing import Protocol

from openledger.consensus.validators import Validator, ValidatorSet
from openledger.genesis.model import Genesis
from openledger.genesis.types import BlockNumber


class ValidatorSource(Protocol):
    """The validator set of any height this node has the parent state of."""

    def for_height(self, height: BlockNumber) -> ValidatorSet: ...


class GenesisValidators:
    """The genesis validators, for every height."""

    def __init__(self, genesis: Genesis) -> None:
        members = [Validator(v.address, v.stake) for v in genesis.openledger.validators]
        self._set = ValidatorSet.create(members, start_height=1)

    def for_height(self, height: BlockNumber) -> ValidatorSet:
        return self._set
