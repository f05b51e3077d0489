// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

// The Datanets precompile's address.
address constant DATANETS_ADDRESS = 0x0000000000000000000000000000000000000a01;

// Modalities a Datanet may hold, fixed at creation.
uint8 constant MODALITY_TEXT = 0;
uint8 constant MODALITY_IMAGE = 1;
uint8 constant MODALITY_AUDIO = 2;

// Review states of a contribution (`getContribution`).
uint8 constant CONTRIBUTION_PENDING = 1;
uint8 constant CONTRIBUTION_ACCEPTED = 2;
uint8 constant CONTRIBUTION_REJECTED = 3;

/// OpenLedger's Datanets: community datasets whose accepted contributions are published in
/// versions, each a Merkle root.
///
/// Ids count from 1. Content is submitted by hash (it lives off chain at `uri`); a content hash
/// may appear once per Datanet. Private Datanets accept contributions from their owner and
/// curators only. Each contributor may add at most `dailyContributionBytes` declared bytes and
/// `dailyContributionCount` contributions to one Datanet per UTC day (`block.timestamp / 86400`).
/// A flagged contribution earns nothing from then on and counts one penalty against its
/// contributor in that Datanet; at `flagPenaltyThreshold` penalties the contributor may no
/// longer contribute to it. Parameters come from the genesis file (`openledger.attribution`).
///
/// Versions are cumulative: version v's root covers every contribution accepted before it was
/// published, in acceptance order. The tree has depth 32; leaf i is
/// `keccak256(bytes.concat(keccak256(abi.encode(contentHash))))` of the i-th accepted
/// contribution, empty positions are zero, and pairs hash sorted, so OpenZeppelin's
/// `MerkleProof.verify(proof, root, leaf)` checks a 32-sibling proof.
interface IDatanets {
    /// A Datanet was created; its creator owns it.
    event DatanetCreated(uint256 indexed datanetId, address indexed owner, string name, string metadataURI, uint8 modality, bool isPublic);
    /// The owner allowed or disallowed a curator (who may review and flag).
    event CuratorSet(uint256 indexed datanetId, address indexed account, bool allowed);
    /// A contribution was submitted; it is pending review.
    event ContributionSubmitted(uint256 indexed contributionId, uint256 indexed datanetId, address indexed contributor, bytes32 contentHash, string uri, uint256 size);
    /// The owner or a curator accepted or rejected a pending contribution.
    event ContributionReviewed(uint256 indexed contributionId, uint256 indexed datanetId, address indexed reviewer, bool accepted, uint256 qualityScore);
    /// The owner published a version covering the first `contributionCount` accepted contributions.
    event VersionPublished(uint256 indexed datanetId, uint256 indexed version, bytes32 root, uint256 contributionCount);
    /// The owner or a curator flagged a contribution; `penalties` is its contributor's count in the Datanet.
    event ContributionFlagged(uint256 indexed contributionId, uint256 indexed datanetId, address indexed contributor, address flaggedBy, string reason, uint256 penalties);

    /// Create a Datanet owned by the caller. `modality` is 0 (text), 1 (image) or 2 (audio).
    function createDatanet(string calldata name, string calldata metadataURI, uint8 modality, bool isPublic) external returns (uint256 datanetId);

    /// Allow or disallow `account` to review and flag (owner only).
    function setCurator(uint256 datanetId, address account, bool allowed) external;

    /// Submit content of `size` declared bytes, identified by `contentHash`, stored at `uri`.
    function contribute(uint256 datanetId, bytes32 contentHash, string calldata uri, uint256 size) external returns (uint256 contributionId);

    /// Accept or reject a pending contribution with a quality score from 0 to 100 (owner or curator).
    function review(uint256 contributionId, bool accept, uint256 qualityScore) external;

    /// Publish a version of everything accepted so far (owner only; needs a contribution
    /// accepted since the previous version).
    function publishVersion(uint256 datanetId) external returns (uint256 version, bytes32 root);

    /// Flag a contribution (owner or curator): it earns nothing from now on.
    function flag(uint256 contributionId, string calldata reason) external;

    function getDatanet(uint256 datanetId) external view returns (address owner, string memory name, string memory metadataURI, uint8 modality, bool isPublic, uint256 latestVersion, uint256 acceptedCount);

    function isCurator(uint256 datanetId, address account) external view returns (bool);

    /// `status` is 1 (pending), 2 (accepted) or 3 (rejected); `leafIndex` is the contribution's
    /// position in the Datanet's tree once accepted.
    function getContribution(uint256 contributionId) external view returns (uint256 datanetId, address contributor, bytes32 contentHash, string memory uri, uint256 size, uint8 status, uint256 qualityScore, bool flagged, uint256 leafIndex);

    /// The contribution that submitted `contentHash` to the Datanet (0: none).
    function contributionByHash(uint256 datanetId, bytes32 contentHash) external view returns (uint256);

    function getVersion(uint256 datanetId, uint256 version) external view returns (bytes32 root, uint256 contributionCount, uint256 blockNumber);

    /// Whether `proof` shows `contentHash` among the contributions of the version.
    function verifyInclusion(uint256 datanetId, uint256 version, bytes32 contentHash, bytes32[] calldata proof) external view returns (bool);

    /// Flags against `contributor`'s contributions to the Datanet.
    function penalties(uint256 datanetId, address contributor) external view returns (uint256);
}
