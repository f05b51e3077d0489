// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

// The staking precompile's address.
address constant STAKING_PRECOMPILE = 0x0000000000000000000000000000000000000800;

/// OpenLedger's native staking: validators, delegations, unbonding, rewards and slashing.
///
/// Stake is sent as `msg.value`. The active set (the top `maxValidators` validators by bonded
/// stake, not jailed, with at least `minValidatorStake` of self-stake) is chosen at the end of
/// every block whose number is a multiple of `epochLength` and signs from the next block: a
/// stake change included in block H counts from block `epochLength * ceil(H / epochLength) + 1`.
/// Every parameter comes from the chain's genesis file (`openledger.staking`).
///
/// Block rewards, downtime jailing and active-set changes happen in the chain's block hooks,
/// outside any transaction, so they emit no events: read `getValidator`,
/// `getActiveValidators` and `pendingRewards`.
interface IStaking {
    /// A validator registered with its self-stake.
    event ValidatorRegistered(address indexed validator, uint256 selfStake, uint256 commissionBps);
    /// Stake was bonded to a validator (a validator adds self-stake by delegating to itself).
    event Delegated(address indexed delegator, address indexed validator, uint256 amount, uint256 shares);
    /// Stake left a validator and waits until `completionBlock`.
    event Undelegated(address indexed delegator, address indexed validator, uint256 amount, uint256 completionBlock);
    /// Matured unbonding stake was paid to `account`.
    event Withdrawn(address indexed account, uint256 amount);
    /// Rewards and commission were paid to `account`.
    event RewardsClaimed(address indexed account, uint256 amount);
    /// Double-sign evidence slashed `amount` wei; `reporterReward` of it went to `reporter`, the
    /// rest was burned.
    event Slashed(address indexed validator, address indexed reporter, uint256 offenceHeight, uint256 amount, uint256 reporterReward);
    /// A validator was jailed by evidence; `untilBlock` is 2**64-1: it is tombstoned.
    event Jailed(address indexed validator, uint256 untilBlock);
    /// A validator left jail; it may rejoin the active set at the next epoch boundary.
    event Unjailed(address indexed validator);

    /// Register `msg.sender` as a validator with `msg.value` as self-stake (at least
    /// `minValidatorStake`) and a commission of at most 10000 basis points.
    function registerValidator(uint256 commissionBps) external payable;

    /// Bond `msg.value` (at least `minDelegation`) to `validator`.
    function delegate(address validator) external payable;

    /// Start unbonding `amount` wei of the caller's stake with `validator`; it can be withdrawn
    /// `unbondingBlocks` blocks later.
    function undelegate(address validator, uint256 amount) external;

    /// Pay the caller every unbonding entry that has completed; reverts when none has.
    function withdraw() external returns (uint256 amount);

    /// Pay the caller its rewards and commission.
    function claimRewards() external returns (uint256 amount);

    /// Leave jail after the downtime jail period (refused to tombstoned validators).
    function unjail() external;

    /// Prove that a validator signed two conflicting votes (RLP-encoded consensus votes of the
    /// same validator, height, round and kind for different blocks). Slashes and tombstones the
    /// validator once and pays the caller a share of the slash.
    function submitDoubleSignEvidence(bytes calldata voteA, bytes calldata voteB) external;

    /// A validator's record; `stake` is its bonded total, `active` whether it signs the next block.
    function getValidator(address validator)
        external
        view
        returns (
            bool registered,
            uint256 stake,
            uint256 selfStake,
            uint256 commissionBps,
            bool jailed,
            uint256 jailedUntil,
            bool tombstoned,
            bool active
        );

    /// The set that signs the next block: members sorted by address, their voting power, and
    /// the first block the set signed.
    function getActiveValidators()
        external
        view
        returns (address[] memory validators, uint256[] memory powers, uint256 startBlock);

    /// What `delegator` has bonded with `validator`, in wei and in shares.
    function getDelegation(address delegator, address validator)
        external
        view
        returns (uint256 amount, uint256 shares);

    /// The unbonding entries of `account` not yet withdrawn, oldest first.
    function pendingWithdrawals(address account)
        external
        view
        returns (address[] memory validators, uint256[] memory amounts, uint256[] memory completionBlocks);

    /// What `claimRewards` would pay `account` now.
    function pendingRewards(address account) external view returns (uint256);

    /// The epoch of `blockNumber` and its first and last blocks (epoch 0 starts at genesis).
    function epochOf(uint256 blockNumber)
        external
        view
        returns (uint256 epoch, uint256 firstBlock, uint256 lastBlock);

    /// Whether double-sign evidence against `validator` at `height` was already processed.
    function isOffenceProcessed(address validator, uint256 height) external view returns (bool);
}
