// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

// The models precompile's address.
address constant MODELS_ADDRESS = 0x0000000000000000000000000000000000000a02;

/// OpenLedger's model registry.
///
/// A model cites the Datanet versions it was trained on (1 to `maxDatanetsPerModel`, each
/// Datanet once, each version published), names the operator that serves it (the only account
/// that may record its inferences) and its least fee per inference in wei. Citations and the name
/// are fixed: a retrained model is registered anew with `parentModelId` set. Ids count from 1.
interface IModels {
    event ModelRegistered(uint256 indexed modelId, address indexed owner, address indexed operator, string name, string uri, uint256 feePerInference, uint256 parentModelId, uint256[] datanetIds, uint256[] datanetVersions);
    event ModelUpdated(uint256 indexed modelId, address indexed operator, string uri, uint256 feePerInference);

    /// Register a model owned by the caller. `parentModelId` is 0 or an existing model.
    function registerModel(string calldata name, string calldata uri, uint256[] calldata datanetIds, uint256[] calldata datanetVersions, address operator, uint256 feePerInference, uint256 parentModelId) external returns (uint256 modelId);

    /// Change the URI, operator and fee (owner only).
    function updateModel(uint256 modelId, string calldata uri, address operator, uint256 feePerInference) external;

    function getModel(uint256 modelId) external view returns (address owner, string memory name, string memory uri, address operator, uint256 feePerInference, uint256 parentModelId);

    function getModelDatanets(uint256 modelId) external view returns (uint256[] memory datanetIds, uint256[] memory datanetVersions);

    /// The version of `datanetId` the model cites (0: not cited).
    function citedVersion(uint256 modelId, uint256 datanetId) external view returns (uint256);
}
