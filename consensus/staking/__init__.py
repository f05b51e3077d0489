"""Staking: the entry points the node uses.

- `make_staking_precompile(params)`: the precompile at `0x...0800` (`IStaking.sol`).
- `StakingHooks(params)`: block rewards, downtime and epoch boundaries, run in every block.
- `StakingRewardSink(params)`: pays the protocol share of inference fees to the stakers
  (`SINK_GAS` is what a call costs, for the attribution precompile's schedule).
- `read_validator_set(state, params)`: the set that signs the block after `state`'s block.
- `staking_genesis_account(genesis)`: the precompile's account at genesis.

The rules, one idea per module: `ledger` (where state is stored), `bonds`
(stake, shares, unbonding), `rewards` (how payments reach validators and delegators),
`sets` (stored active sets and terms), `epochs` (epochs and the choice of the
active set), `jail` (who is excluded from pay),
`downtime` (missed commits), `slashing` (double-sign evidence),
`abi` (signatures, events, gas schedule), `precompile` (the methods) and
`hooks` (per-block work and the sink).
"""

from openledger.consensus.staking.epochs import compute_epoch, is_epoch_boundary, read_validator_set
from openledger.consensus.staking.genesis import staking_genesis_account
from openledger.consensus.staking.hooks import SINK_GAS, StakingHooks, StakingRewardSink
from openledger.consensus.staking.precompile import make_staking_precompile
from openledger.consensus.staking.slashing import InvalidEvidence

__all__ = (
    "SINK_GAS",
    "InvalidEvidence",
    "StakingHooks",
    "StakingRewardSink",
    "compute_epoch",
    "is_epoch_boundary",
    "make_staking_precompile",
    "read_validator_set",
    "staking_genesis_account",
)
