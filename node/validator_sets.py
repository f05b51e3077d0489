"""Where the consensus host learns the validator set of a height.

The set that signs block H is decided by the state after block H-1 (the staking precompile's
active set, which changes only at epoch boundaries); `StakingValidators` reads it from there.
"""

from collections import OrderedDict

from openledger.consensus.errors import ConsensusError
from openledger.consensus.staking import read_validator_set
from openledger.consensus.validators import Validator, ValidatorSet
from openledger.genesis.model import StakingParams
from openledger.genesis.types import BlockNumber
from openledger.state.store import ChainStore

MAX_INTERNED_SETS = 64
"""Distinct validator sets (one per epoch) kept to return equal sets as one object."""


class StakingValidators:
    """The staking precompile's active set, read from the state after the parent block.

    The set changes only at epoch boundaries, so consecutive heights mostly share one set; equal
    sets are returned as one object, which keeps `compute_proposer`'s memo warm.
    """

    def __init__(self, store: ChainStore, params: StakingParams) -> None:
        self.store = store
        self.params = params
        self._by_parent: OrderedDict[bytes, ValidatorSet] = OrderedDict()
        self._interned: dict[tuple[int, tuple[Validator, ...]], ValidatorSet] = {}

    def for_height(self, height: BlockNumber) -> ValidatorSet:
        parent = self.store.get_header(height - 1)
        if parent is None:
            raise ConsensusError(f"no state to read the validator set of height {height} from")
        cached = self._by_parent.get(parent.hash)
        if cached is not None:
            return cached
        found = read_validator_set(self.store.state_at(parent), self.params)
        key = (found.start_height, found.validators)
        interned = self._interned.setdefault(key, found)
        if len(self._interned) > MAX_INTERNED_SETS:
            # One set per epoch: the oldest epochs' sets are no longer read at live heights.
            del self._interned[next(iter(self._interned))]
        self._by_parent[parent.hash] = interned
        if len(self._by_parent) > 4096:
            self._by_parent.popitem(last=False)
        return interned
