"""The events of the four attribution precompiles, as declared in `attribution/solidity/*.sol`.

Every state change emits one of these from the precompile's own address, so ethers, web3.py and
`eth_getLogs` filters decode them with the shipped ABI.
"""

from openledger.state.precompile import Event

# --- IDatanets ------------------------------------------------------------------------------------
DATANET_CREATED = Event(
    "DatanetCreated",
    (("datanetId", "uint256", True), ("owner", "address", True), ("name", "string", False),
     ("metadataURI", "string", False), ("modality", "uint8", False), ("isPublic", "bool", False)),
)  # fmt: skip
CURATOR_SET = Event(
    "CuratorSet",
    (("datanetId", "uint256", True), ("account", "address", True), ("allowed", "bool", False)),
)
CONTRIBUTION_SUBMITTED = Event(
    "ContributionSubmitted",
    (("contributionId", "uint256", True), ("datanetId", "uint256", True),
     ("contributor", "address", True), ("contentHash", "bytes32", False), ("uri", "string", False),
     ("size", "uint256", False)),
)  # fmt: skip
CONTRIBUTION_REVIEWED = Event(
    "ContributionReviewed",
    (("contributionId", "uint256", True), ("datanetId", "uint256", True),
     ("reviewer", "address", True), ("accepted", "bool", False), ("qualityScore", "uint256", False)),
)  # fmt: skip
VERSION_PUBLISHED = Event(
    "VersionPublished",
    (("datanetId", "uint256", True), ("version", "uint256", True), ("root", "bytes32", False),
     ("contributionCount", "uint256", False)),
)  # fmt: skip
CONTRIBUTION_FLAGGED = Event(
    "ContributionFlagged",
    (("contributionId", "uint256", True), ("datanetId", "uint256", True),
     ("contributor", "address", True), ("flaggedBy", "address", False), ("reason", "string", False),
     ("penalties", "uint256", False)),
)  # fmt: skip
DATANETS_EVENTS = (DATANET_CREATED, CURATOR_SET, CONTRIBUTION_SUBMITTED, CONTRIBUTION_REVIEWED,
                   VERSION_PUBLISHED, CONTRIBUTION_FLAGGED)  # fmt: skip

# --- IModels --------------------------------------------------------------------------------------
MODEL_REGISTERED = Event(
    "ModelRegistered",
    (("modelId", "uint256", True), ("owner", "address", True), ("operator", "address", True),
     ("name", "string", False), ("uri", "string", False), ("feePerInference", "uint256", False),
     ("parentModelId", "uint256", False), ("datanetIds", "uint256[]", False),
     ("datanetVersions", "uint256[]", False)),
)  # fmt: skip
MODEL_UPDATED = Event(
    "ModelUpdated",
    (("modelId", "uint256", True), ("operator", "address", True), ("uri", "string", False),
     ("feePerInference", "uint256", False)),
)  # fmt: skip
SPAN_MODEL_REGISTERED = Event(
    "SpanModelRegistered",
    (("modelId", "uint256", True), ("bond", "uint256", False),
     *((name, "uint256", False) for name in (
         "minSpanBytes", "maxOccurrences", "omissionBytes", "scoringRule", "challengeWindow",
         "minOperatorBond", "bondFeeMultiple", "challengerShareBps", "maxSpanEntries"))),
)  # fmt: skip
BOND_DEPOSITED = Event(
    "BondDeposited",
    (("modelId", "uint256", True), ("from", "address", True), ("amount", "uint256", False),
     ("bond", "uint256", False)),
)  # fmt: skip
BOND_WITHDRAWN = Event(
    "BondWithdrawn",
    (("modelId", "uint256", True), ("to", "address", True), ("amount", "uint256", False),
     ("bond", "uint256", False)),
)  # fmt: skip
MODELS_EVENTS = (MODEL_REGISTERED, MODEL_UPDATED, SPAN_MODEL_REGISTERED, BOND_DEPOSITED,
                 BOND_WITHDRAWN)  # fmt: skip

# --- IAgents --------------------------------------------------------------------------------------
AGENT_REGISTERED = Event(
    "AgentRegistered",
    (("agentId", "uint256", True), ("owner", "address", True), ("modelId", "uint256", True),
     ("uri", "string", False), ("stake", "uint256", False)),
)  # fmt: skip
UNSTAKE_REQUESTED = Event(
    "UnstakeRequested",
    (("agentId", "uint256", True), ("owner", "address", True), ("stake", "uint256", False),
     ("withdrawableAtBlock", "uint256", False)),
)  # fmt: skip
STAKE_WITHDRAWN = Event(
    "StakeWithdrawn",
    (("agentId", "uint256", True), ("owner", "address", True), ("amount", "uint256", False)),
)
AGENTS_EVENTS = (AGENT_REGISTERED, UNSTAKE_REQUESTED, STAKE_WITHDRAWN)

# --- IAttribution ---------------------------------------------------------------------------------
INFERENCE_RECORDED = Event(
    "InferenceRecorded",
    (("inferenceId", "uint256", True), ("modelId", "uint256", True), ("agentId", "uint256", True),
     ("operator", "address", False), ("inferenceHash", "bytes32", False),
     ("evidenceRoot", "bytes32", False), ("fee", "uint256", False),
     ("contributionIds", "uint256[]", False), ("weights", "uint256[]", False)),
)  # fmt: skip
FEE_SPLIT = Event(
    "FeeSplit",
    (("inferenceId", "uint256", True), ("protocolShare", "uint256", False),
     ("modelOwner", "address", False), ("modelOwnerShare", "uint256", False),
     ("agentOwner", "address", False), ("agentOwnerShare", "uint256", False),
     ("contributorsShare", "uint256", False)),
)  # fmt: skip
CONTRIBUTION_REWARDED = Event(
    "ContributionRewarded",
    (("inferenceId", "uint256", True), ("contributionId", "uint256", True),
     ("contributor", "address", True), ("amount", "uint256", False)),
)  # fmt: skip
REWARDS_CLAIMED = Event(
    "RewardsClaimed", (("account", "address", True), ("amount", "uint256", False))
)
SPAN_INFERENCE_RECORDED = Event(
    "SpanInferenceRecorded",
    (("inferenceId", "uint256", True), ("modelId", "uint256", True),
     ("outputRoot", "bytes32", False), ("outputLength", "uint256", False),
     ("maturesAtBlock", "uint256", False), ("evidence", "bytes", False)),
)  # fmt: skip
INFERENCE_VOIDED = Event(
    "InferenceVoided",
    (("inferenceId", "uint256", True), ("modelId", "uint256", True),
     ("challenger", "address", True), ("kind", "uint8", False), ("forfeited", "uint256", False),
     ("slashed", "uint256", False), ("challengerReward", "uint256", False)),
)  # fmt: skip
ATTRIBUTION_EVENTS = (INFERENCE_RECORDED, FEE_SPLIT, CONTRIBUTION_REWARDED, REWARDS_CLAIMED,
                      SPAN_INFERENCE_RECORDED, INFERENCE_VOIDED)  # fmt: skip
