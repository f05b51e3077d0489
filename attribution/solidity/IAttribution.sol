// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

// The attribution and rewards precompile's address.
address constant ATTRIBUTION_ADDRESS = 0x0000000000000000000000000000000000000a04;

// States of an inference record (`getSpanInference`).
uint8 constant INFERENCE_UNVERIFIED = 1; // declared weights: nothing checks them
uint8 constant INFERENCE_IN_WINDOW = 2; // span record inside its challenge window
uint8 constant INFERENCE_FINAL = 3; // span record past its window, never disproven
uint8 constant INFERENCE_VOIDED = 4; // span record proven wrong by a challenge

// Proof kinds (`InferenceVoided.kind`).
uint8 constant PROOF_MISMATCH = 1; // an entry's bytes differ between output and contribution
uint8 constant PROOF_BOUNDARIES = 2; // a span does not start at a word start or end at a word end
uint8 constant PROOF_EARLIER = 3; // a credited span is held by a lower contribution id
uint8 constant PROOF_OMISSION = 4; // an uncovered output span is held by a cited contribution

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
///
/// A verbatim-span model (`IModels.registerSpanModel`) records with `recordSpanInference`: the
/// output's content root and length and the span evidence (entries of four uint256 words:
/// outputStart, length, contributionId, contributionStart, sorted; evidenceRoot is its keccak256).
/// The chain computes the weights from the evidence (README "Span attribution"). The contributor
/// payouts are locked for the model's `challengeWindow` blocks (`lockedRewards`); during it anyone
/// may submit one of the four `challenge*` proofs (range proofs against content roots). A proven
/// challenge voids the record: its locked contributor payouts are forfeited to the protocol, the
/// model's bond is slashed by min(bond, bondFeeMultiple * fee), and the challenger is paid
/// challengerShareBps of the slash (the rest goes to the protocol). Protocol, model-owner and
/// agent-owner shares are paid at record time, as for declared weights.
///
/// A range proof (`bytes`) is: uint256 content length, uint256 first chunk index, uint256
/// sibling count, the 32-byte siblings, then the carried chunks' bytes back to back (256-byte
/// chunks; the content's last chunk may be shorter). The content root binds the length, so a
/// proof that verifies proves it; an output proof that verifies with another length than the
/// record's proves the record wrong by itself.
interface IAttribution {
    event InferenceRecorded(uint256 indexed inferenceId, uint256 indexed modelId, uint256 indexed agentId, address operator, bytes32 inferenceHash, bytes32 evidenceRoot, uint256 fee, uint256[] contributionIds, uint256[] weights);
    /// How the fee of an inference was split (`agentOwner` is zero when no agent was named).
    event FeeSplit(uint256 indexed inferenceId, uint256 protocolShare, address modelOwner, uint256 modelOwnerShare, address agentOwner, uint256 agentOwnerShare, uint256 contributorsShare);
    event ContributionRewarded(uint256 indexed inferenceId, uint256 indexed contributionId, address indexed contributor, uint256 amount);
    event RewardsClaimed(address indexed account, uint256 amount);
    /// A span record (after its `InferenceRecorded`, `FeeSplit` and `ContributionRewarded`
    /// events, whose contributor amounts are locked until `maturesAtBlock`); `evidence` is the
    /// encoded evidence a challenge must quote.
    event SpanInferenceRecorded(uint256 indexed inferenceId, uint256 indexed modelId, bytes32 outputRoot, uint256 outputLength, uint256 maturesAtBlock, bytes evidence);
    /// A challenge proved the record wrong: `forfeited` locked contributor wei went to the protocol,
    /// `slashed` wei left the model's bond, `challengerReward` of it to the challenger.
    event InferenceVoided(uint256 indexed inferenceId, uint256 indexed modelId, address indexed challenger, uint8 kind, uint256 forfeited, uint256 slashed, uint256 challengerReward);

    /// Record an inference of `modelId` (operator only); `agentId` 0 names no agent.
    function recordInference(uint256 modelId, uint256 agentId, bytes32 inferenceHash, uint256[] calldata contributionIds, uint256[] calldata weights, bytes32 evidenceRoot) external payable returns (uint256 inferenceId);

    /// Record an inference of verbatim-span model `modelId` (operator only). `evidence` is the
    /// encoded entries; the chain checks its structure, the credited and witness contributions
    /// (accepted, not flagged, in the cited versions, the span inside their declared size) and
    /// computes the weights. `msg.value` is the fee; the model's bond must be at least
    /// max(minOperatorBond, bondFeeMultiple * msg.value).
    function recordSpanInference(uint256 modelId, uint256 agentId, bytes32 inferenceHash, bytes32 outputRoot, uint256 outputLength, bytes calldata evidence) external payable returns (uint256 inferenceId);

    /// Prove that byte `at` of entry `entryIndex`'s span differs between the output and the
    /// entry's contribution. `outputProof` covers output byte outputStart+at,
    /// `contributionProof` contribution byte contributionStart+at.
    function challengeMismatch(uint256 inferenceId, bytes calldata evidence, uint256 entryIndex, uint256 at, bytes calldata outputProof, bytes calldata contributionProof) external returns (uint256 reward);

    /// Prove that entry `entryIndex`'s span does not start at a word start or end at a word end.
    /// `startProof` covers the span's first byte and the one before it (if any), `endProof` its
    /// last byte and the one after it (if any).
    function challengeBoundaries(uint256 inferenceId, bytes calldata evidence, uint256 entryIndex, bytes calldata startProof, bytes calldata endProof) external returns (uint256 reward);

    /// Prove that the span credited by entry `entryIndex` is held at `earlierStart` by
    /// contribution `earlierId`, lower than the credited one, accepted, unflagged at the record's
    /// block and in the cited version. `outputProof` covers the span, `earlierProof` the held bytes.
    function challengeEarlier(uint256 inferenceId, bytes calldata evidence, uint256 entryIndex, uint256 earlierId, uint256 earlierStart, bytes calldata outputProof, bytes calldata earlierProof) external returns (uint256 reward);

    /// Prove that output bytes start..start+length-1 (word-bounded, at least omissionBytes, inside
    /// no span of the record) are held at `holderStart` by contribution `holderId` (accepted,
    /// unflagged at the record's block, in the cited version). `outputProof` covers them and the
    /// byte on each side (where there is one), `holderProof` the held bytes.
    function challengeOmission(uint256 inferenceId, bytes calldata evidence, uint256 start, uint256 length, uint256 holderId, uint256 holderStart, bytes calldata outputProof, bytes calldata holderProof) external returns (uint256 reward);

    /// Pay the caller's claimable rewards: pending rewards, plus span-record payouts whose window
    /// has ended (at most 64 such payouts per call, oldest first); reverts when there are none.
    function claim() external returns (uint256 amount);

    /// Everything accrued to `account` and not yet claimed or voided, including payouts still in
    /// a challenge window (`lockedRewards`); `claim` pays `pendingRewards - lockedRewards`.
    function pendingRewards(address account) external view returns (uint256);

    /// The part of `pendingRewards` still inside a challenge window.
    function lockedRewards(address account) external view returns (uint256);

    /// `status` is 1 (declared weights, unverified), 2 (span record in its window), 3 (final)
    /// or 4 (voided); the other values are zero for a declared-weights record.
    function getSpanInference(uint256 inferenceId) external view returns (uint8 status, bytes32 outputRoot, uint256 outputLength, uint256 maturesAtBlock, uint256 voidedAtBlock);

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
