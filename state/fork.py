"""The one py-evm fork this chain runs: Prague, with OpenLedger's precompiles and block hooks.

py-evm's forks inherit from each other seventeen levels deep; we add exactly one level on top of
Prague, with real classes, and nothing else in the code base subclasses py-evm. The precompiles
of `attribution/` and `consensus/` are not known here (this folder must not import them): the node
passes them in, with the block hooks that run before and after a block's transactions, and
`make_vm_class` returns the VM class of that chain.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from eth.abc import BlockAPI, BlockHeaderAPI, ComputationAPI, SignedTransactionAPI, StateAPI
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PRAGUE_PRECOMPILES, PragueComputation
from eth.vm.forks.prague.constants import (
    DELEGATION_DESIGNATION_PREFIX,
    DEPOSIT_CONTRACT_ADDRESS,
    DEPOSIT_REQUEST_TYPE,
)
from eth.vm.forks.prague.state import PragueState
from eth.vm.spoof import SpoofTransaction
from eth_utils import ValidationError

from openledger.genesis.types import Address

Precompile = Callable[[ComputationAPI], ComputationAPI]
"""A precompile: runs on the computation of the message sent to its address, charges its gas,
and returns the computation (py-evm's contract)."""


@dataclass(frozen=True, slots=True)
class BlockInputs:
    """What a block's hooks may know about the block beyond its header."""

    proposer: Address
    """The validator that proposed the block (also the header's coinbase)."""
    last_commit_signers: tuple[Address, ...] = ()
    """Validators whose precommits are in the commit certificate of the parent block."""


class BlockHooks(Protocol):
    """State changes a chain makes around every block's transactions (rewards, epochs, ...).

    Hooks must be deterministic functions of the state, the header and the inputs: every node
    runs them and must reach the same state root.
    """

    def before_transactions(
        self, state: StateAPI, header: BlockHeaderAPI, inputs: BlockInputs
    ) -> None: ...

    def after_transactions(
        self, state: StateAPI, header: BlockHeaderAPI, inputs: BlockInputs
    ) -> None: ...


class NoHooks:
    """A chain without per-block state changes."""

    def before_transactions(
        self, state: StateAPI, header: BlockHeaderAPI, inputs: BlockInputs
    ) -> None:
        return None

    def after_transactions(
        self, state: StateAPI, header: BlockHeaderAPI, inputs: BlockInputs
    ) -> None:
        return None


class OpenLedgerComputation(PragueComputation):
    """Prague computation; `make_vm_class` sets the precompiles of the chain."""


def is_eoa_code(code: bytes) -> bool:
    """Whether an account with this code may send transactions (EIP-3607): no code, or an
    EIP-7702 delegation (`0xef0100` and an address), which leaves the account an EOA."""
    return not code or code.startswith(DELEGATION_DESIGNATION_PREFIX)


class OpenLedgerState(PragueState):
    """Prague state running `OpenLedgerComputation`, refusing senders with code (EIP-3607), which
    py-evm 0.12.1b1 does not check."""

    computation_class = OpenLedgerComputation

    def validate_transaction(self, transaction: SignedTransactionAPI) -> None:
        super().validate_transaction(transaction)
        # eth_call and eth_estimateGas may call "from" a contract, as geth's SkipFromEOACheck,
        # and a dev node's impersonated account may be one, as with Anvil.
        if isinstance(transaction, SpoofTransaction) or getattr(transaction, "impersonated", False):
            return
        code = self.get_code(transaction.sender)
        if not is_eoa_code(code):
            raise ValidationError(
                f"sender not an eoa: address 0x{transaction.sender.hex()}, len(code): {len(code)}"
            )


class OpenLedgerVM(PragueVM):
    """Prague VM with the chain's block hooks.

    `block_inputs` must be set before a block is built or imported; `make_vm_class` sets the
    hooks.
    """

    fork = "openledger-prague"
    _state_class = OpenLedgerState
    hooks: BlockHooks = NoHooks()
    block_inputs: BlockInputs | None = None

    def block_preprocessing(self, block: BlockAPI) -> None:
        super().block_preprocessing(block)
        self.hooks.before_transactions(self.state, block.header, self._require_inputs(block))

    def block_postprocessing(self, block: BlockAPI) -> BlockAPI:
        self.hooks.after_transactions(self.state, block.header, self._require_inputs(block))
        return super().block_postprocessing(block)

    def process_deposit_request_data(self, block: BlockAPI) -> None:
        """EIP-6110 deposit requests: logs of the deposit contract. Prague reads and decodes every
        receipt of the block back from the database to look for them (an eighth of a validator's
        CPU under load); a log of that address needs code there, and no account can put code at
        that address (no known key, no CREATE preimage), so without code the requests are empty,
        exactly what the scan finds."""
        if self.state.get_code(Address(DEPOSIT_CONTRACT_ADDRESS)):
            super().process_deposit_request_data(block)
        else:
            block.block_requests.append(DEPOSIT_REQUEST_TYPE)

    def _require_inputs(self, block: BlockAPI) -> BlockInputs:
        if self.block_inputs is None:
            return BlockInputs(proposer=Address(block.header.coinbase))
        return self.block_inputs


def make_vm_class(
    precompiles: Mapping[Address, Precompile] | None = None,
    hooks: BlockHooks | None = None,
) -> type[OpenLedgerVM]:
    """The VM class of a chain with these extra precompiles and block hooks."""
    chain_precompiles = {**PRAGUE_PRECOMPILES, **(precompiles or {})}
    chain_hooks = hooks or NoHooks()

    class ChainComputation(OpenLedgerComputation):
        _precompiles = chain_precompiles

    class ChainState(OpenLedgerState):
        computation_class = ChainComputation

    class ChainVM(OpenLedgerVM):
        _state_class = ChainState
        hooks = chain_hooks

    return ChainVM
