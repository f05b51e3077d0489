"""The chain's executable rules: which precompiles and block hooks the VM runs.

This is where `node/` wires `attribution/` and `consensus/` into `state/` (which must not import
either): every node of a network must build the same VM class from the same genesis, or their
state roots differ.
"""

import json
from dataclasses import replace

from eth_hash.auto import keccak

from openledger.attribution import make_attribution_precompiles
from openledger.consensus.staking import (
    StakingHooks,
    StakingRewardSink,
    make_staking_precompile,
    staking_genesis_account,
)
from openledger.genesis.errors import GenesisError
from openledger.genesis.load import dump_genesis, with_precompile_code
from openledger.genesis.model import STAKING_ADDRESS, Account, Genesis
from openledger.state.fork import OpenLedgerVM, make_vm_class

CONFIG_SLOT = int.from_bytes(keccak(b"openledger.genesis.config"), "big")
"""Storage slot of the staking precompile holding `compute_config_commitment`."""


def compute_config_commitment(genesis: Genesis) -> int:
    """keccak256 of the canonical JSON of the chain id and the `openledger` section."""
    document = {"chainId": genesis.chain_id, "openledger": dump_genesis(genesis)["openledger"]}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return int.from_bytes(keccak(canonical.encode()), "big")


def build_vm_class(genesis: Genesis) -> type[OpenLedgerVM]:
    """The VM class of the chain described by `genesis`."""
    staking = genesis.openledger.staking
    precompiles = {STAKING_ADDRESS: make_staking_precompile(staking)}
    # The protocol share of inference fees goes to validators and delegators.
    sink = StakingRewardSink(staking)
    precompiles.update(make_attribution_precompiles(genesis.openledger.attribution, sink))
    return make_vm_class(precompiles=precompiles, hooks=StakingHooks(staking))


def build_genesis(genesis: Genesis) -> Genesis:
    """The genesis with the staking precompile's account (the genesis validators registered,
    their stakes minted, the first active set) merged into the alloc.

    The account is derived from `openledger.validators`, so the genesis file leaves it out; an
    alloc entry that gives it another balance or storage is refused. Its storage also holds a
    commitment to the chain id and the whole `openledger` section (`CONFIG_SLOT`), so that the
    genesis hash, which nodes compare in their handshake and a data directory keeps, differs for
    any other chain configuration.
    """
    account = staking_genesis_account(genesis)
    account = replace(
        account,
        storage=tuple(
            sorted((*account.storage, (CONFIG_SLOT, compute_config_commitment(genesis))))
        ),
    )
    alloc = genesis.alloc_dict()
    existing = alloc.get(STAKING_ADDRESS, Account())
    if (existing.balance or existing.storage) and (existing.balance, existing.storage) != (
        account.balance,
        account.storage,
    ):
        raise GenesisError(
            f"alloc.0x{STAKING_ADDRESS.hex()}",
            "the staking precompile's balance and storage come from openledger.validators; "
            "leave them out of alloc",
        )
    alloc[STAKING_ADDRESS] = replace(account, nonce=existing.nonce)
    return replace(genesis, alloc=with_precompile_code(alloc))
