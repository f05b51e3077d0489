"""The staking precompile's account at genesis.

The genesis validators are registered exactly as `registerValidator` registers (same code, over
a dictionary of slots instead of EVM storage), in the order the genesis file lists them; together
they form the first active set, which signs from block 1. Their stakes are minted into the
precompile's balance. The account is a pure function of the genesis value, so the genesis hash
stays a pure function of the genesis file.
"""

from openledger.consensus.staking.bonds import register_validator
from openledger.consensus.staking.ledger import ACCOUNTED, Ledger
from openledger.consensus.staking.rewards import BPS, set_earning_power
from openledger.consensus.staking.sets import install_active_set
from openledger.consensus.validators import Validator
from openledger.genesis.errors import GenesisError
from openledger.genesis.model import PRECOMPILE_CODE, Account, Genesis
from openledger.genesis.types import Address, Wei
from openledger.state.precompile import DictWords

UINT256_LIMIT = 2**256


def staking_genesis_account(genesis: Genesis) -> Account:
    """The staking precompile's account: the validators' stakes as balance, and its storage.

    Raises `GenesisError` naming the field when a genesis validator could not have registered:
    stake below `minValidatorStake`, commission above 10000 bps, more validators than
    `maxValidators`, or a validator listed twice.
    """
    params = genesis.openledger.staking
    validators = genesis.openledger.validators
    if len(validators) > params.max_validators:
        raise GenesisError(
            "openledger.validators",
            f"lists {len(validators)} validators, more than maxValidators "
            f"({params.max_validators})",
        )
    words = DictWords()
    ledger = Ledger(words)
    seen: set[Address] = set()
    for index, validator in enumerate(validators):
        path = f"openledger.validators.{index}"
        if validator.address in seen:
            raise GenesisError(f"{path}.address", "is listed twice")
        seen.add(validator.address)
        if validator.stake < params.min_validator_stake:
            raise GenesisError(
                f"{path}.stake",
                f"{validator.stake} is below minValidatorStake ({params.min_validator_stake})",
            )
        if not 0 <= validator.commission_bps <= BPS:
            raise GenesisError(f"{path}.commissionBps", f"must be within 0 .. {BPS}")
        register_validator(
            ledger, validator.address, validator.stake, validator.commission_bps, power_acc=0,
            height=0,
        )  # fmt: skip
    total = sum(validator.stake for validator in validators)
    if total >= UINT256_LIMIT:
        raise GenesisError("openledger.validators", "the stakes add up to more than 2**256 - 1")
    if validators:
        members = tuple(sorted((Validator(v.address, v.stake) for v in validators),
                               key=lambda member: member.address))  # fmt: skip
        install_active_set(ledger, members, start=1)
        for member in members:
            set_earning_power(ledger, member.address, member.power, power_acc=0)
        ledger.set(ACCOUNTED, to=1)  # block 1 pays nothing: genesis has no commit
    return Account(balance=Wei(total), code=PRECOMPILE_CODE, storage=words.items())
