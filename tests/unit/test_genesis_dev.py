"""Dev keys are the well-known Anvil/Hardhat accounts; the dev genesis funds them."""

import pytest
from unit_helpers import KEYS

from openledger.genesis.dev import (
    DEV_BALANCE,
    derive_dev_keys,
    derive_dev_validator_key,
    make_dev_genesis,
)
from openledger.genesis.model import PRECOMPILE_ADDRESSES, PRECOMPILE_CODE
from openledger.genesis.types import ChainId

# What `anvil` prints for "test test test test test test test test test test test junk".
ANVIL_ACCOUNTS = [
    ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
    ("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    ("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
    ("0x90F79bf6EB2c4f870365E785982E1f101E93b906", "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"),
    ("0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"),
    ("0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"),
    ("0x976EA74026E726554dB657fA54763abd0C3a0aa9", "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"),
    ("0x14dC79964da2C08b23698B3D3cc7Ca32193d9955", "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"),
    ("0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f", "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"),
    ("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720", "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("index", "address", "private_key"), [(i, *a) for i, a in enumerate(ANVIL_ACCOUNTS)]
)
def test_dev_keys_are_the_anvil_accounts(index: int, address: str, private_key: str) -> None:
    key = KEYS[index]

    assert key.address == bytes.fromhex(address[2:])
    assert key.private_key == bytes.fromhex(private_key)


def test_derive_dev_keys_gives_the_first_accounts_in_order() -> None:
    assert derive_dev_keys(3) == KEYS[:3]
    assert derive_dev_keys(0) == ()


def test_another_mnemonic_gives_other_keys() -> None:
    other = derive_dev_keys(1, "abandon " * 11 + "about")

    assert other[0].address != KEYS[0].address


def test_the_dev_validator_key_is_off_the_account_path() -> None:
    validator = derive_dev_validator_key()

    assert validator.address not in {key.address for key in derive_dev_keys(20)}
    assert len(validator.private_key) == 32


def test_the_dev_genesis_funds_the_accounts_and_sets_the_validators() -> None:
    accounts = tuple(key.address for key in KEYS[:2])
    validator = derive_dev_validator_key().address

    genesis = make_dev_genesis(ChainId(31337), accounts, (validator,), block_time_ms=250)

    alloc = genesis.alloc_dict()
    assert genesis.chain_id == 31337
    assert [alloc[address].balance for address in accounts] == [DEV_BALANCE, DEV_BALANCE]
    assert all(alloc[address].code == PRECOMPILE_CODE for address in PRECOMPILE_ADDRESSES)
    assert [v.address for v in genesis.openledger.validators] == [validator]
    assert genesis.openledger.consensus.block_time_ms == 250
    # The validator's stake must make it eligible under the genesis' own rule.
    stake = genesis.openledger.validators[0].stake
    assert stake >= genesis.openledger.staking.min_validator_stake
