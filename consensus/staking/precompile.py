"""The staking precompile at `0x0000000000000000000000000000000000000800`.

Its ABI is `solidity/IStaking.sol`. Stake is sent as `msg.value` (`registerValidator`,
`delegate`); everything the precompile holds (bonded and unbonding stake, unclaimed rewards) is
its own balance. The rules live in the other modules of this package; this module checks each
call, charges its gas and emits its logs.

Signatures, events and the gas schedule are in `abi`. Gas is charged before any write;
the parts that depend on stored lists are counted by the gas rules' stored counts, or, where they
depend on the caller, charged by the handler after it reads the list and before it writes.
"""

from collections.abc import Mapping
from typing import Any

from openledger.consensus.staking.abi import (
    DELEGATED,
    GAS,
    JAILED,
    PER_DELEGATION_CLAIM_GAS,
    PER_DELEGATION_READ_GAS,
    PER_ENTRY_GAS,
    PER_MEMBER_GAS,
    REWARDS_CLAIMED,
    SIGNATURES,
    SLASHED,
    STAKING_EVENTS,
    UINT256_MAX,
    UNDELEGATED,
    UNJAILED,
    VALIDATOR_REGISTERED,
    VOTE_BYTE_GAS,
    WITHDRAWN,
)
from openledger.consensus.staking.bonds import (
    add_unbonding_entry,
    bond,
    count_matured,
    count_unbonding_entries,
    get_delegation_value,
    get_self_stake,
    get_unbonding_entries,
    register_validator,
    take_matured,
    unbond,
)
from openledger.consensus.staking.downtime import reset_downtime_record
from openledger.consensus.staking.epochs import compute_epoch
from openledger.consensus.staking.jail import release
from openledger.consensus.staking.ledger import (
    COMMISSION,
    DELEGATION_COUNT,
    DELEGATION_INDEX,
    DELEGATION_SHARES,
    ENTRY_COMPLETION,
    JAILED_UNTIL,
    OFFENCE,
    QUEUE_HEAD,
    SHARES,
    TOKENS,
    TOMBSTONE,
    Ledger,
)
from openledger.consensus.staking.rewards import (
    BPS,
    compute_power_acc,
    get_pending_rewards,
    take_rewards,
)
from openledger.consensus.staking.sets import get_current_set, is_active
from openledger.consensus.staking.slashing import (
    FOREVER,
    InvalidEvidence,
    apply_double_sign_slash,
    compute_double_sign_slash,
    verify_double_sign,
)
from openledger.genesis.model import STAKING_ADDRESS, StakingParams
from openledger.genesis.types import Address
from openledger.state.precompile import (
    SLOT_READ_GAS,
    Call,
    GasRule,
    MethodHandlers,
    PrecompileRevert,
    StatefulPrecompile,
    Storage,
    declare_precompile,
    hex_address,
)


def make_staking_precompile(params: StakingParams) -> StatefulPrecompile:
    """The staking precompile of a chain with these parameters."""
    rules = {name: _GAS_RULES.get(name, GasRule(GAS[name])) for name, *_ in SIGNATURES}
    return declare_precompile(
        "staking", STAKING_ADDRESS, SIGNATURES, _StakingMethods(params), rules, STAKING_EVENTS
    )


def _count_members(storage: Storage, arguments: Mapping[str, Any]) -> int:
    return len(get_current_set(Ledger(storage)).members)


def _count_entries(storage: Storage, arguments: Mapping[str, Any]) -> int:
    return count_unbonding_entries(Ledger(storage), arguments["account"])


def _count_delegations(storage: Storage, arguments: Mapping[str, Any]) -> int:
    return Ledger(storage).get(DELEGATION_COUNT, arguments["account"])


_GAS_RULES = {
    "submitDoubleSignEvidence": GasRule(
        GAS["submitDoubleSignEvidence"], per_byte=VOTE_BYTE_GAS, byte_args=("voteA", "voteB")
    ),
    "getActiveValidators": GasRule(
        GAS["getActiveValidators"], per_stored_item=PER_MEMBER_GAS, stored_items=_count_members
    ),
    "pendingWithdrawals": GasRule(
        GAS["pendingWithdrawals"], per_stored_item=PER_ENTRY_GAS, stored_items=_count_entries
    ),
    "pendingRewards": GasRule(
        GAS["pendingRewards"],
        per_stored_item=PER_DELEGATION_READ_GAS,
        stored_items=_count_delegations,
    ),
}
"""Gas rules beyond a fixed cost. `withdraw` and `claimRewards` depend on lists of the caller,
and evidence on the lists of the validator it names, which the framework's stored counts (given
the storage and the arguments) cannot see: their handlers charge that part (`_charge`) after
reading the list and before writing anything."""


class _StakingMethods(MethodHandlers[StakingParams]):
    """The handlers; each is called with the `Call` and the decoded arguments."""

    # --- transactions ----------------------------------------------------------------------------

    def registerValidator(self, call: Call, commission_bps: int) -> None:  # noqa: N802
        ledger, validator = _ledger(call), call.sender
        if ledger.is_registered(validator):
            call.revert(f"{hex_address(validator)} is already registered")
        if commission_bps > BPS:
            call.revert(f"commission {commission_bps} bps is above {BPS}")
        if call.value < self.params.min_validator_stake:
            call.revert(f"self-stake {call.value} wei is below the minimum "
                        f"{self.params.min_validator_stake}")  # fmt: skip
        self._check_delegation_room(call, ledger, validator, validator)
        register_validator(ledger, validator, call.value, commission_bps, self._power_acc(call),
                           call.block_number)  # fmt: skip
        call.emit(VALIDATOR_REGISTERED, validator, call.value, commission_bps)

    def delegate(self, call: Call, validator: Address) -> None:
        ledger, delegator = _ledger(call), call.sender
        if not ledger.is_registered(validator):
            call.revert(f"{hex_address(validator)} is not a registered validator")
        if ledger.is_tombstoned(validator):
            call.revert(f"{hex_address(validator)} is tombstoned for double signing")
        if call.value < self.params.min_delegation:
            call.revert(f"delegation of {call.value} wei is below the minimum "
                        f"{self.params.min_delegation}")  # fmt: skip
        if ledger.get(TOKENS, validator) == 0 and ledger.get(SHARES, validator):
            call.revert(f"{hex_address(validator)} has no bonded stake left")
        self._check_delegation_room(call, ledger, delegator, validator)
        shares = bond(
            ledger, delegator, validator, call.value, self._power_acc(call), call.block_number
        )
        call.emit(DELEGATED, delegator, validator, call.value, shares)

    def undelegate(self, call: Call, validator: Address, amount: int) -> None:
        ledger, delegator = _ledger(call), call.sender
        value = get_delegation_value(ledger, delegator, validator)
        if amount == 0:
            call.revert("amount must be positive")
        if value == 0:
            call.revert(f"nothing is delegated to {hex_address(validator)}")
        if amount > value:
            call.revert(f"amount {amount} is more than the {value} wei delegated")
        limit = self.params.max_unbonding_entries
        if count_unbonding_entries(ledger, delegator) >= limit:
            call.revert(f"{limit} unbonding entries are waiting, the most allowed; withdraw first")
        completion = call.block_number + self.params.unbonding_blocks
        unbond(ledger, delegator, validator, amount, self._power_acc(call), call.block_number)
        add_unbonding_entry(ledger, delegator, validator, amount, call.block_number, completion)
        call.emit(UNDELEGATED, delegator, validator, amount, completion)

    def withdraw(self, call: Call) -> int:
        ledger, account = _ledger(call), call.sender
        matured = count_matured(ledger, account, call.block_number)
        if matured == 0:
            if count_unbonding_entries(ledger, account) == 0:
                call.revert("nothing is unbonding")
            head = ledger.get(QUEUE_HEAD, account)
            completion = ledger.get(ENTRY_COMPLETION, account, head)
            call.revert(f"nothing to withdraw yet: the next entry completes at block {completion}")
        _charge(call, matured * PER_ENTRY_GAS, "withdraw entries")
        amount = take_matured(ledger, account, matured)
        call.pay(account, amount)
        call.emit(WITHDRAWN, account, amount)
        return amount

    def claimRewards(self, call: Call) -> int:  # noqa: N802
        ledger, account = _ledger(call), call.sender
        held = ledger.get(DELEGATION_COUNT, account)
        _charge(call, held * PER_DELEGATION_CLAIM_GAS, "claimRewards delegations")
        amount = take_rewards(ledger, account, self._power_acc(call))
        if amount:
            call.pay(account, amount)
            call.emit(REWARDS_CLAIMED, account, amount)
        return amount

    def unjail(self, call: Call) -> None:
        ledger, validator = _ledger(call), call.sender
        if not ledger.is_registered(validator):
            call.revert(f"{hex_address(validator)} is not a registered validator")
        if ledger.is_tombstoned(validator):
            call.revert(
                f"{hex_address(validator)} is tombstoned for double signing and can never unjail"
            )
        if not ledger.is_jailed(validator):
            call.revert(f"{hex_address(validator)} is not jailed")
        until = ledger.get(JAILED_UNTIL, validator)
        if call.block_number < until:
            call.revert(f"{hex_address(validator)} is jailed until block {until}")
        self_stake = get_self_stake(ledger, validator)
        if self_stake < self.params.min_validator_stake:
            call.revert(f"self-stake {self_stake} wei is below the minimum "
                        f"{self.params.min_validator_stake}; delegate to yourself first")  # fmt: skip
        release(ledger, validator)
        reset_downtime_record(ledger, validator, call.block_number)
        call.emit(UNJAILED, validator)

    def submitDoubleSignEvidence(self, call: Call, vote_a: bytes, vote_b: bytes) -> None:  # noqa: N802
        ledger = _ledger(call)
        chain_id = int(call.state.execution_context.chain_id)
        try:
            offence = verify_double_sign(
                ledger, self.params, vote_a, vote_b, chain_id, call.block_number,
                call.timestamp,
            )  # fmt: skip
        except InvalidEvidence as error:
            raise PrecompileRevert(error.problem) from None
        slash = compute_double_sign_slash(ledger, self.params, offence, call.block_number)
        _charge(call, (offence.reads + slash.reads) * SLOT_READ_GAS, "evidence lookups")
        apply_double_sign_slash(ledger, slash)
        call.pay(call.sender, slash.reward)
        call.state.delta_balance(STAKING_ADDRESS, -slash.burned)
        call.emit(SLASHED, offence.validator, call.sender, offence.height, slash.total,
                  slash.reward)  # fmt: skip
        call.emit(JAILED, offence.validator, FOREVER)

    # --- views -----------------------------------------------------------------------------------

    def getValidator(self, call: Call, validator: Address) -> tuple[Any, ...]:  # noqa: N802
        ledger = _ledger(call)
        return (
            ledger.is_registered(validator),
            ledger.get(TOKENS, validator),
            get_self_stake(ledger, validator),
            ledger.get(COMMISSION, validator),
            ledger.is_jailed(validator),
            ledger.get(JAILED_UNTIL, validator),
            ledger.get(TOMBSTONE, validator) != 0,
            is_active(ledger, validator),
        )

    def getActiveValidators(self, call: Call) -> tuple[Any, ...]:  # noqa: N802
        active = get_current_set(_ledger(call))
        return (
            [member.address for member in active.members],
            [member.power for member in active.members],
            active.start,
        )

    def getDelegation(self, call: Call, delegator: Address, validator: Address) -> tuple[int, int]:  # noqa: N802
        ledger = _ledger(call)
        return (
            get_delegation_value(ledger, delegator, validator),
            ledger.get(DELEGATION_SHARES, delegator, validator),
        )

    def pendingWithdrawals(self, call: Call, account: Address) -> tuple[Any, ...]:  # noqa: N802
        ledger = _ledger(call)
        entries = get_unbonding_entries(ledger, account)
        return (
            [entry.validator for entry in entries],
            [entry.amount for entry in entries],
            [entry.completion for entry in entries],
        )

    def pendingRewards(self, call: Call, account: Address) -> int:  # noqa: N802
        return get_pending_rewards(_ledger(call), account, self._power_acc(call))

    def epochOf(self, call: Call, block_number: int) -> tuple[int, int, int]:  # noqa: N802
        length = self.params.epoch_length
        epoch = compute_epoch(block_number, length)
        last = min((epoch + 1) * length, UINT256_MAX)
        return epoch, epoch * length + 1 if epoch else 0, last

    def isOffenceProcessed(self, call: Call, validator: Address, height: int) -> bool:  # noqa: N802
        return _ledger(call).get(OFFENCE, validator, height) != 0

    # --- helpers ---------------------------------------------------------------------------------

    def _power_acc(self, call: Call) -> int:
        """The reward accumulator with every block up to this one accounted (not stored)."""
        return compute_power_acc(_ledger(call), self.params.block_reward, call.block_number)[0]

    def _check_delegation_room(
        self, call: Call, ledger: Ledger, delegator: Address, validator: Address
    ) -> None:
        limit = self.params.max_delegations_per_account
        listed = ledger.get(DELEGATION_INDEX, delegator, validator)
        if not listed and ledger.get(DELEGATION_COUNT, delegator) >= limit:
            call.revert(f"{hex_address(delegator)} already delegates to {limit} validators, the most "
                        "allowed")  # fmt: skip


def _ledger(call: Call) -> Ledger:
    return Ledger(call.storage)


def _charge(call: Call, gas: int, what: str) -> None:
    """Charge gas that depends on stored lists, before anything is written."""
    if gas:
        call.computation.consume_gas(gas, reason=f"staking: {what}")
