// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

// The models precompile's address.
address constant MODELS_ADDRESS = 0x0000000000000000000000000000000000000a02;

// Attribution methods (`getAttributionMethod`).
uint8 constant METHOD_DECLARED = 1; // weights named by the operator: unverified
uint8 constant METHOD_SPANS = 2; // verbatim spans: weights computed from evidence, challengeable

// Scoring rules of the span method (`getSpanParams`).
uint256 constant SCORING_NEW_BYTES = 1; // a credited span earns the output bytes no earlier span covered

/// OpenLedger's model registry.
///
/// A model is registered with its attribution method. `registerModel` gives a declared-weights
/// model: its operator names contributions and weights and nothing checks them (unverified).
/// `registerSpanModel` gives a verbatim-span model: its inferences carry span evidence from which
/// the chain computes the weights, rewards wait a challenge window, and anyone may prove a record
/// wrong (`IAttribution.challenge*`), which slashes the model's bond. The span parameters
/// (`getSpanParams`) are the genesis values, pinned at registration. The bond is `msg.value` of
/// `registerSpanModel` plus `addBond` deposits; it must be at least
/// `max(minOperatorBond, bondFeeMultiple * fee)` for each span inference recorded with fee `fee`.
///
/// A model cites the Datanet versions it was trained on (1 to `maxDatanetsPerModel`, each
/// Datanet once, each version published), names the operator that serves it (the only account
/// that may record its inferences) and its least fee per inference in wei. Citations and the name
/// are fixed: a retrained model is registered anew with `parentModelId` set. Ids count from 1.
interface IModels {
    event ModelRegistered(uint256 indexed modelId, address indexed owner, address indexed operator, string name, string uri, uint256 feePerInference, uint256 parentModelId, uint256[] datanetIds, uint256[] datanetVersions);
    event ModelUpdated(uint256 indexed modelId, address indexed operator, string uri, uint256 feePerInference);
    /// A verbatim-span model was registered (after its `ModelRegistered`), with its pinned parameters.
    event SpanModelRegistered(uint256 indexed modelId, uint256 bond, uint256 minSpanBytes, uint256 maxOccurrences, uint256 omissionBytes, uint256 scoringRule, uint256 challengeWindow, uint256 minOperatorBond, uint256 bondFeeMultiple, uint256 challengerShareBps, uint256 maxSpanEntries);
    /// `bond` is the model's bond after the change.
    event BondDeposited(uint256 indexed modelId, address indexed from, uint256 amount, uint256 bond);
    event BondWithdrawn(uint256 indexed modelId, address indexed to, uint256 amount, uint256 bond);

    /// Register a model owned by the caller. `parentModelId` is 0 or an existing model.
    function registerModel(string calldata name, string calldata uri, uint256[] calldata datanetIds, uint256[] calldata datanetVersions, address operator, uint256 feePerInference, uint256 parentModelId) external returns (uint256 modelId);

    /// Register a verbatim-span model owned by the caller; `msg.value` is its bond (at least
    /// `max(minOperatorBond, bondFeeMultiple * feePerInference)`). Otherwise as `registerModel`.
    function registerSpanModel(string calldata name, string calldata uri, uint256[] calldata datanetIds, uint256[] calldata datanetVersions, address operator, uint256 feePerInference, uint256 parentModelId) external payable returns (uint256 modelId);

    /// Add `msg.value` to a span model's bond (anyone).
    function addBond(uint256 modelId) external payable;

    /// Pay `amount` of the bond to the owner (owner only; only once every span inference of the
    /// model is past its challenge window).
    function withdrawBond(uint256 modelId, uint256 amount) external;

    /// Change the URI, operator and fee (owner only).
    function updateModel(uint256 modelId, string calldata uri, address operator, uint256 feePerInference) external;

    function getModel(uint256 modelId) external view returns (address owner, string memory name, string memory uri, address operator, uint256 feePerInference, uint256 parentModelId);

    function getModelDatanets(uint256 modelId) external view returns (uint256[] memory datanetIds, uint256[] memory datanetVersions);

    /// The version of `datanetId` the model cites (0: not cited).
    function citedVersion(uint256 modelId, uint256 datanetId) external view returns (uint256);

    /// `method` is 1 (declared weights, unverified) or 2 (verbatim spans); `bond` is the span
    /// model's bond (0 for declared); `requiredBond` the least bond a span inference at
    /// `feePerInference` needs; `lockedUntilBlock` the first block from which `withdrawBond` may run.
    function getAttributionMethod(uint256 modelId) external view returns (uint8 method, uint256 bond, uint256 requiredBond, uint256 lockedUntilBlock);

    /// The span parameters pinned at registration (reverts for a declared-weights model).
    function getSpanParams(uint256 modelId) external view returns (uint256 minSpanBytes, uint256 maxOccurrences, uint256 omissionBytes, uint256 scoringRule, uint256 challengeWindow, uint256 minOperatorBond, uint256 bondFeeMultiple, uint256 challengerShareBps, uint256 maxSpanEntries);
}
