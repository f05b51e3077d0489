"""The staking precompile's interface: its ABI signatures, its events and its gas schedule.

`solidity/IStaking.sol` declares exactly these functions and events (a test compiles it and
compares). The handlers are in `precompile`.

Gas, charged before any write, on top of the framework's `CALL_BASE_GAS` (2600) per call. Counts
use the framework's prices: 2100 per slot read, 20000 per slot written, log gas as the LOG
opcodes, 9000 per value payment, 3000 per signature recovery.

| method | gas | plus |
| --- | --- | --- |
| `registerValidator(uint256)` | 277,337 | |
| `delegate(address)` | 306,112 | |
| `undelegate(address,uint256)` | 472,412 | |
| `withdraw()` | 36,681 | 12,600 per entry paid |
| `claimRewards()` | 137,681 | 143,100 per delegation held |
| `unjail()` | 186,325 | |
| `submitDoubleSignEvidence(bytes,bytes)` | 283,849 | 8 per byte of the two votes, 2,100 per term or unbonding-list read |
| `getValidator(address)` | 21,000 | |
| `getActiveValidators()` | 8,400 | 4,200 per member |
| `getDelegation(address,address)` | 6,300 | |
| `pendingWithdrawals(address)` | 4,200 | 12,600 per entry |
| `pendingRewards(address)` | 27,300 | 23,100 per delegation held |
| `epochOf(uint256)` | 0 | |
| `isOffenceProcessed(address,uint256)` | 2,100 | |

The "plus" parts depend on stored lists (bounded by `max_delegations_per_account`,
`max_unbonding_entries` and `max_validators`); they are counted from storage before the method
runs, or, for the caller's own lists and the evidence lookups, by the handler before it writes.

Block rewards, downtime jailing and active-set changes happen in the block hooks, outside any
transaction: they cost no gas and emit no logs.
"""

from openledger.state.precompile import SLOT_READ_GAS, SLOT_WRITE_GAS, Event, compute_log_gas

PAY_GAS = 9_000
"""A payment of value, as a CALL with value costs."""
ECRECOVER_GAS = 3_000
"""One signature recovery, as the ecrecover precompile costs."""
VOTE_BYTE_GAS = 8
"""Per byte of submitted votes, for decoding them."""
UINT256_MAX = 2**256 - 1
"""The largest uint256 (the last block of the last epoch `epochOf` can name)."""

# --- events ------------------------------------------------------------------------------------------

VALIDATOR_REGISTERED = Event(
    "ValidatorRegistered",
    (("validator", "address", True), ("selfStake", "uint256", False),
     ("commissionBps", "uint256", False)),
)  # fmt: skip
DELEGATED = Event(
    "Delegated",
    (("delegator", "address", True), ("validator", "address", True),
     ("amount", "uint256", False), ("shares", "uint256", False)),
)  # fmt: skip
UNDELEGATED = Event(
    "Undelegated",
    (("delegator", "address", True), ("validator", "address", True),
     ("amount", "uint256", False), ("completionBlock", "uint256", False)),
)  # fmt: skip
WITHDRAWN = Event("Withdrawn", (("account", "address", True), ("amount", "uint256", False)))
REWARDS_CLAIMED = Event(
    "RewardsClaimed", (("account", "address", True), ("amount", "uint256", False))
)
SLASHED = Event(
    "Slashed",
    (("validator", "address", True), ("reporter", "address", True),
     ("offenceHeight", "uint256", False), ("amount", "uint256", False),
     ("reporterReward", "uint256", False)),
)  # fmt: skip
JAILED = Event("Jailed", (("validator", "address", True), ("untilBlock", "uint256", False)))
UNJAILED = Event("Unjailed", (("validator", "address", True),))

STAKING_EVENTS = (VALIDATOR_REGISTERED, DELEGATED, UNDELEGATED, WITHDRAWN, REWARDS_CLAIMED,
                  SLASHED, JAILED, UNJAILED)  # fmt: skip
"""Every event the staking precompile emits."""


# --- gas -----------------------------------------------------------------------------------------


def compute_gas(
    *, reads: int = 0, writes: int = 0, logs: tuple[Event, ...] = (), payments: int = 0
) -> int:
    """Gas of a method that reads and writes these many slots, emits these logs (each with
    only static data) and pays value this many times."""
    log_gas = sum(
        compute_log_gas(
            1 + sum(indexed for _, _, indexed in event.inputs),
            32 * sum(not indexed for _, _, indexed in event.inputs),
        )
        for event in logs
    )
    return reads * SLOT_READ_GAS + writes * SLOT_WRITE_GAS + log_gas + payments * PAY_GAS


GAS = {
    "registerValidator": compute_gas(reads=17, writes=12, logs=(VALIDATOR_REGISTERED,)),
    "delegate": compute_gas(reads=21, writes=13, logs=(DELEGATED,)),
    "undelegate": compute_gas(reads=24, writes=21, logs=(UNDELEGATED,)),
    "withdraw": compute_gas(reads=3, writes=1, logs=(WITHDRAWN,), payments=1),
    "claimRewards": compute_gas(reads=13, writes=5, logs=(REWARDS_CLAIMED,), payments=1),
    "unjail": compute_gas(reads=12, writes=8, logs=(UNJAILED,)),
    "submitDoubleSignEvidence": (
        compute_gas(reads=12, writes=12, logs=(SLASHED, JAILED), payments=1) + 2 * ECRECOVER_GAS
    ),
    "getValidator": compute_gas(reads=10),
    "getActiveValidators": compute_gas(reads=4),
    "getDelegation": compute_gas(reads=3),
    "pendingWithdrawals": compute_gas(reads=2),
    "pendingRewards": compute_gas(reads=13),
    "epochOf": 0,
    "isOffenceProcessed": compute_gas(reads=1),
}
"""Fixed gas of each method (the framework adds `CALL_BASE_GAS`)."""

PER_ENTRY_GAS = compute_gas(reads=6)
"""`withdraw` and `pendingWithdrawals`: per unbonding entry paid or listed."""
PER_DELEGATION_CLAIM_GAS = compute_gas(reads=11, writes=6)
"""`claimRewards`: per delegation settled (its validator's earnings first)."""
PER_DELEGATION_READ_GAS = compute_gas(reads=11)
"""`pendingRewards`: per delegation read."""
PER_MEMBER_GAS = compute_gas(reads=2)
"""`getActiveValidators`: per member listed."""

# name, inputs, outputs, mutability: the ABI, in the order of IStaking.sol.
SIGNATURES: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[str, ...], str], ...] = (
    ("registerValidator", (("commissionBps", "uint256"),), (), "payable"),
    ("delegate", (("validator", "address"),), (), "payable"),
    ("undelegate", (("validator", "address"), ("amount", "uint256")), (), "nonpayable"),
    ("withdraw", (), ("uint256",), "nonpayable"),
    ("claimRewards", (), ("uint256",), "nonpayable"),
    ("unjail", (), (), "nonpayable"),
    ("submitDoubleSignEvidence", (("voteA", "bytes"), ("voteB", "bytes")), (), "nonpayable"),
    ("getValidator", (("validator", "address"),),
     ("bool", "uint256", "uint256", "uint256", "bool", "uint256", "bool", "bool"), "view"),
    ("getActiveValidators", (), ("address[]", "uint256[]", "uint256"), "view"),
    ("getDelegation", (("delegator", "address"), ("validator", "address")),
     ("uint256", "uint256"), "view"),
    ("pendingWithdrawals", (("account", "address"),),
     ("address[]", "uint256[]", "uint256[]"), "view"),
    ("pendingRewards", (("account", "address"),), ("uint256",), "view"),
    ("epochOf", (("blockNumber", "uint256"),), ("uint256", "uint256", "uint256"), "view"),
    ("isOffenceProcessed", (("validator", "address"), ("height", "uint256")), ("bool",), "view"),
)  # fmt: skip
