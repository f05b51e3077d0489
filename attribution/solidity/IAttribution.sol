// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

// The attribution and rewards precompile's address.
address constant ATTRIBUTION_ADDRESS = 0x0000000000000000000000000000000000000a04;

/// OpenLedger's proof of attribution: per-inference records and the rewards they pay.
///
/// A model's operator records an inference with its fee as `msg.value` (at least the model's
/// `feePerInference`; the whole value is split), the contributions that influenced it with their
/// weights, and a commitment to the attribution evidence. Each contribution must be accepted,
/// not flagged, and in the version of its Datanet that the model cites; `inferenceHash` is
/// unique. With F the fee and the genesis shares in basis points:
///   protocol    = F * protocolFeeBps / 10000 (to validators and stakers, or the protocol account)
///   model owner = F * modelOwnerFeeBps / 10000
///   agent owner = F * agentOwnerFeeBps / 10000 when `agentId != 0`, else 0
///   contributors: the rest, P, pro rata: P * w_i / sum(w); the division remainder goes to the
///   contribution with the largest weight (the first of equals).
/// The payouts sum to exactly F. Amounts accrue; `claim` pays them.
interface IAttribution {
    event InferenceRecorded(uint256 indexed inferenceId, uint256 indexed modelId, uint256 indexed agentId, address operator, bytes32 inferenceHash, bytes32 evidenceRoot, uint256 fee, uint256[] contributionIds, uint256[] weights);
    /// How the fee of an inference was split (`agentOwner` is zero when no agent was named).
    event FeeSplit(uint256 indexed inferenceId, uint256 protocolShare, address modelOwner, uint256 modelOwnerShare, address agentOwner, uint256 agentOwnerShare, uint256 contributorsShare);
    event ContributionRewarded(uint256 indexed inferenceId, uint256 indexed contributionId, address indexed contributor, uint256 amount);
    event RewardsClaimed(address indexed account, uint256 amount);

    /// Record an inference of `modelId` (operator only); `agentId` 0 names no agent.
    function recordInference(uint256 modelId, uint256 agentId, bytes32 inferenceHash, uint256[] calldata contributionIds, uint256[] calldata weights, bytes32 evidenceRoot) external payable returns (uint256 inferenceId);

    /// Pay the caller's pending rewards; reverts when there are none.
    function claim() external returns (uint256 amount);

    function pendingRewards(address account) external view returns (uint256);

    /// `attributionHash` is keccak256(abi.encode(contributionIds, weights)).
    function getInference(uint256 inferenceId) external view returns (uint256 modelId, uint256 agentId, address operator, bytes32 inferenceHash, bytes32 evidenceRoot, uint256 fee, uint256 blockNumber, bytes32 attributionHash);

    /// The inference recorded with `inferenceHash` (0: none).
    function inferenceByHash(bytes32 inferenceHash) external view returns (uint256);

    /// Wei a contribution has earned and how many inferences credited it.
    function contributionEarnings(uint256 contributionId) external view returns (uint256 earned, uint256 inferences);

    /// How often `account`'s contributions were credited, the wei they earned, and the flags
    /// against them across all Datanets.
    function contributorStats(address account) external view returns (uint256 attributions, uint256 earned, uint256 penalties);
}
