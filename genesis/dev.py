"""Generators for development genesis files.

Dev accounts come from the well-known development mnemonic that Hardhat and Anvil use, along the
standard path m/44'/60'/0'/0/i, so the addresses and keys are the ones every Ethereum developer
has seen printed before. These keys are public: never use them on a real network.
"""

from dataclasses import dataclass

from eth_account import Account as EthAccount

from openledger.genesis.load import with_precompile_code
from openledger.genesis.model import (
    ETHER,
    Account,
    AttributionParams,
    ConsensusParams,
    Genesis,
    GenesisValidator,
    OpenLedgerParams,
    StakingParams,
)
from openledger.genesis.types import Address, ChainId, Wei

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_BALANCE = Wei(10_000 * ETHER)
DEV_VALIDATOR_STAKE = Wei(10_000 * ETHER)
# The dev validator signs with a key of its own, off the account path, so that the priority fees
# it earns as block proposer do not change the balances of the accounts users test with.
DEV_VALIDATOR_PATH = "m/44'/60'/1'/0/0"

ZERO = Address(b"\x00" * 20)

EthAccount.enable_unaudited_hdwallet_features()


@dataclass(frozen=True, slots=True)
class DevKey:
    """A key derived from the development mnemonic."""

    address: Address
    """The account address."""
    private_key: bytes
    """The 32-byte secp256k1 private key."""


def derive_dev_keys(count: int, mnemonic: str = DEV_MNEMONIC) -> tuple[DevKey, ...]:
    """The first `count` accounts of `mnemonic` on the path m/44'/60'/0'/0/i."""
    return tuple(_derive(mnemonic, f"m/44'/60'/0'/0/{index}") for index in range(count))


def derive_dev_validator_key(mnemonic: str = DEV_MNEMONIC) -> DevKey:
    """The dev chain's validator key (path `DEV_VALIDATOR_PATH`)."""
    return _derive(mnemonic, DEV_VALIDATOR_PATH)


def make_dev_genesis(
    chain_id: ChainId,
    accounts: tuple[Address, ...],
    validators: tuple[Address, ...],
    *,
    balance: Wei = DEV_BALANCE,
    stake: Wei = DEV_VALIDATOR_STAKE,
    block_time_ms: int = 1000,
    timestamp: int = 0,
) -> Genesis:
    """A genesis that funds `accounts` and makes `validators` the first validator set."""
    alloc = with_precompile_code({address: Account(balance=balance) for address in accounts})
    params = OpenLedgerParams(
        validators=tuple(GenesisValidator(address, stake) for address in validators),
        consensus=ConsensusParams(block_time_ms=block_time_ms),
        staking=StakingParams(min_validator_stake=min(stake, StakingParams().min_validator_stake)),
        # Until staking receives the protocol share of inference fees, it accrues to the first
        # validator, whose key the development mnemonic gives (path DEV_VALIDATOR_PATH).
        attribution=AttributionParams(protocol_account=validators[0] if validators else ZERO),
    )
    return Genesis(
        chain_id=chain_id,
        alloc=alloc,
        timestamp=timestamp,  # type: ignore[arg-type]
        openledger=params,
    )


def _derive(mnemonic: str, path: str) -> DevKey:
    account = EthAccount.from_mnemonic(mnemonic, account_path=path)
    return DevKey(Address(bytes.fromhex(account.address[2:])), bytes(account.key))
