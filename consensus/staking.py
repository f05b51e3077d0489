"""Staking: the entry points the node uses.

- `make_staking_precompile(params)`: the precompile at `0x...0800` (`IStaking.sol`).
- `StakingHooks(params)`: block rewards, downtime and epoch boundaries, run in every block.
- `StakingRewardSink(params)`: pays the protocol share of inference fees to the stakers
  (`SINK_GAS` is what a call costs, for the attribution precompile's schedule).
- `read_validator_set(state, params)`: the set that signs the block after `state`'s block.
- `staking_genesis_account(genesis)`: the precompile's account at genesis.

The rules, one idea per module: `staking_ledger` (where state is stored), `staking_bonds`
(stake, shares, unbonding), `staking_rewards` (how payments reach validators and delegators),
`staking_sets` (stored active sets and terms), `staking_epochs` (epochs and the choice of the
active set), `staking_jail` (who is excluded from pay),
`staking_downtime` (missed commits), `staking_slashing` (double-sign evidence),
`staking_abi` (signatures, events, gas schedule), `staking_precompile` (the methods) and
`staking_hooks` (per-block work and the sink).
"""

from openledger.consensus.staking_epochs import compute_epoch, is_epoch_boundary, read_validator_set
from openledger.consensus.staking_genesis import staking_genesis_account
from openledger.consensus.staking_hooks import SINK_GAS, StakingHooks, StakingRewardSink
from openledger.consensus.staking_precompile import make_staking_precompile
from openledger.consensus.staking_slashing import InvalidEvidence

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
