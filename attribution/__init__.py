"""OpenLedger's attribution precompiles: Datanets, models, agents, attribution and rewards.

- `make_attribution_precompiles(params, sink)`: the four precompiles by address, for the node to
  bind into the VM (`node/chainspec.py`).
- `ProtocolSink`, `AccountSink`: where the protocol share of inference fees goes.
- `compute_fee_split`: how one fee is split; `merkle`: how Datanet versions are committed.

One idea per module: `layout` (storage fields), `merkle` (the versions' tree), `split` (fee
split), `sink` (the protocol share), `events`, `gas` (the schedule), and one module per
precompile: `datanets` (0x...0a01), `models` (0x...0a02), `agents` (0x...0a03), `rewards`
(0x...0a04, put together in `rewards_precompile`). Verbatim-span attribution adds `span_models`
(pinned parameters, bonds), `span_records` (recording), `locks` (payouts locked in the challenge
window), `challenges` (the four proofs), `span_proofs` (proof bytes), `membership` (a
contribution in a model's index) and `span_gas`; `content` and `engine/` are the pure content
roots and span engine they run. The Solidity interfaces whose ABI the precompiles answer are in
`solidity/`.

This folder may import `state/` and `genesis/` only.
"""

from pathlib import Path

from openledger.attribution.agents import make_agents_precompile
from openledger.attribution.datanets import make_datanets_precompile
from openledger.attribution.models import make_models_precompile
from openledger.attribution.rewards_precompile import make_rewards_precompile
from openledger.attribution.sink import AccountSink, ProtocolSink
from openledger.attribution.split import FeeSplit, compute_fee_split
from openledger.genesis.model import AttributionParams
from openledger.genesis.types import Address
from openledger.state.precompile import StatefulPrecompile

SOLIDITY_DIR = Path(__file__).resolve().parent / "solidity"
"""The Solidity interfaces (`IDatanets.sol`, `IModels.sol`, `IAgents.sol`, `IAttribution.sol`)."""


def make_attribution_precompiles(
    params: AttributionParams, sink: ProtocolSink | None = None
) -> dict[Address, StatefulPrecompile]:
    """The four precompiles by address. Without a `sink`, the protocol share of fees accrues to
    `params.protocol_account` (`AccountSink`)."""
    chosen = sink if sink is not None else AccountSink(params.protocol_account)
    precompiles = (
        make_datanets_precompile(params),
        make_models_precompile(params),
        make_agents_precompile(params),
        make_rewards_precompile(params, chosen),
    )
    return {precompile.address: precompile for precompile in precompiles}


__all__ = (
    "SOLIDITY_DIR",
    "AccountSink",
    "FeeSplit",
    "ProtocolSink",
    "compute_fee_split",
    "make_attribution_precompiles",
)
