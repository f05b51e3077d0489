// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "IDatanets.sol";
import "IModels.sol";
import "IAgents.sol";
import "IAttribution.sol";

/// A contract that owns and curates a Datanet through the shipped interface, including the
/// methods that return nothing (Solidity checks the callee has code before such calls).
contract DatanetSteward {
    IDatanets constant DATANETS = IDatanets(DATANETS_ADDRESS);
    uint256 public datanetId;

    function create(string calldata name) external returns (uint256) {
        datanetId = DATANETS.createDatanet(name, "ipfs://steward", MODALITY_TEXT, true);
        return datanetId;
    }

    function addCurator(address account) external {
        DATANETS.setCurator(datanetId, account, true);
    }

    function accept(uint256 contributionId, uint256 qualityScore) external {
        DATANETS.review(contributionId, true, qualityScore);
    }

    function publish() external returns (uint256 version, bytes32 root) {
        return DATANETS.publishVersion(datanetId);
    }

    function flag(uint256 contributionId) external {
        DATANETS.flag(contributionId, "flagged by the steward");
    }

    function acceptedCount() external view returns (uint256 count) {
        (, , , , , , count) = DATANETS.getDatanet(datanetId);
    }
}

/// A contract that operates a model: it records inferences, and one method records and then
/// changes its mind.
contract ModelOperator {
    IAttribution constant ATTRIBUTION = IAttribution(ATTRIBUTION_ADDRESS);

    function registerModel(uint256 datanetId, uint256 version, uint256 fee) external returns (uint256) {
        uint256[] memory ids = new uint256[](1);
        uint256[] memory versions = new uint256[](1);
        ids[0] = datanetId;
        versions[0] = version;
        return IModels(MODELS_ADDRESS).registerModel("contract-model", "", ids, versions, address(this), fee, 0);
    }

    function record(uint256 modelId, bytes32 inferenceHash, uint256[] calldata ids, uint256[] calldata weights)
        external
        payable
        returns (uint256)
    {
        return ATTRIBUTION.recordInference{value: msg.value}(modelId, 0, inferenceHash, ids, weights, bytes32(0));
    }

    function recordThenRevert(uint256 modelId, bytes32 inferenceHash, uint256[] calldata ids, uint256[] calldata weights)
        external
        payable
    {
        ATTRIBUTION.recordInference{value: msg.value}(modelId, 0, inferenceHash, ids, weights, bytes32(0));
        revert("the operator changed its mind");
    }

    /// Records, and catches the refusal of a second record of the same inference.
    function recordTwice(uint256 modelId, bytes32 inferenceHash, uint256[] calldata ids, uint256[] calldata weights)
        external
        payable
        returns (string memory reason)
    {
        ATTRIBUTION.recordInference{value: msg.value / 2}(modelId, 0, inferenceHash, ids, weights, bytes32(0));
        try ATTRIBUTION.recordInference{value: msg.value / 2}(modelId, 0, inferenceHash, ids, weights, bytes32(0)) {
            reason = "";
        } catch Error(string memory refused) {
            reason = refused;
        }
    }

    function claim() external returns (uint256) {
        return ATTRIBUTION.claim();
    }

    function pending() external view returns (uint256) {
        return ATTRIBUTION.pendingRewards(address(this));
    }
}

/// OpenZeppelin's MerkleProof.verify (v5, MIT), with the Datanet leaf encoding: what a contract
/// does to check a contribution is in a published version without calling the precompile.
contract InclusionVerifier {
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 contentHash) external pure returns (bool) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(contentHash))));
        bytes32 computed = leaf;
        for (uint256 i = 0; i < proof.length; i++) {
            computed = computed < proof[i]
                ? keccak256(abi.encodePacked(computed, proof[i]))
                : keccak256(abi.encodePacked(proof[i], computed));
        }
        return computed == root;
    }
}
