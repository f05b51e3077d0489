// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

// The agents precompile's address.
address constant AGENTS_ADDRESS = 0x0000000000000000000000000000000000000a03;

// Agent states (`getAgent`).
uint8 constant AGENT_ACTIVE = 1;
uint8 constant AGENT_UNBONDING = 2;
uint8 constant AGENT_WITHDRAWN = 3;

/// OpenLedger's agent registry.
///
/// An agent serves one model and is registered with a stake of at least `minAgentStake` wei
/// sent as `msg.value`. While active, the model's inferences may name it, and its owner earns
/// the agent share of their fees. `requestUnstake` retires it at once and starts
/// `agentUnbondingBlocks` blocks of unbonding, after which `withdrawStake` pays the stake back.
interface IAgents {
    event AgentRegistered(uint256 indexed agentId, address indexed owner, uint256 indexed modelId, string uri, uint256 stake);
    event UnstakeRequested(uint256 indexed agentId, address indexed owner, uint256 stake, uint256 withdrawableAtBlock);
    event StakeWithdrawn(uint256 indexed agentId, address indexed owner, uint256 amount);

    function registerAgent(uint256 modelId, string calldata uri) external payable returns (uint256 agentId);

    /// Retire the agent and start unbonding its stake (owner only).
    function requestUnstake(uint256 agentId) external;

    /// Pay the unbonded stake to the owner (owner only, from `withdrawableAtBlock` on).
    function withdrawStake(uint256 agentId) external returns (uint256 amount);

    /// `status` is 1 (active), 2 (unbonding) or 3 (withdrawn).
    function getAgent(uint256 agentId) external view returns (address owner, uint256 modelId, string memory uri, uint256 stake, uint8 status, uint256 withdrawableAtBlock);
}
