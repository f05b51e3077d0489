"""The chain's executable rules: which precompiles and block hooks the VM runs.

This is where `node/` wires `attribution/` and `consensus/` into `state/` (which must not import
either): every node of a network must build the same VM class from the same genesis, or their
state roots differ.
"""

from openledger.genesis.model import Genesis
from openledger.state.fork import OpenLedgerVM, make_vm_class


def build_vm_class(genesis: Genesis) -> type[OpenLedgerVM]:
    """The VM class of the chain described by `genesis`."""
    return make_vm_class(precompiles={}, hooks=None)


def build_genesis(genesis: Genesis) -> Genesis:
    """The genesis state the chain starts from (the precompiles' accounts merged in)."""
    return genesis
