"""The agents precompile at `0x0000000000000000000000000000000000000a03` (`IAgents.sol`).

An agent is an application serving one model, registered by its owner with a stake of at least
`minAgentStake` wei sent as `msg.value`; the stake stays in this precompile's balance. An active
agent may be named by the model's inferences, and its owner then earns the agent share of their
fees. `requestUnstake` retires the agent at once (it can no longer be named) and starts
`agentUnbondingBlocks` blocks of unbonding; from block `request + agentUnbondingBlocks` on,
`withdrawStake` pays the stake back to the owner.
"""

from typing import Any

from openledger.attribution.events import (
    AGENT_REGISTERED,
    AGENTS_EVENTS,
    STAKE_WITHDRAWN,
    UNSTAKE_REQUESTED,
)
from openledger.attribution.gas import AGENTS_GAS
from openledger.attribution.layout import (
    AGENT_COUNT,
    AGENT_MODEL,
    AGENT_OWNER,
    AGENT_STAKE,
    AGENT_STATUS,
    AGENT_URI,
    AGENT_WITHDRAWABLE,
    MODEL_OWNER,
    AgentStatus,
    Records,
    models_of,
)
from openledger.genesis.model import AGENTS_ADDRESS, AttributionParams
from openledger.state import precompile
from openledger.state.precompile import Call, hex_address

SIGNATURES: tuple[precompile.Signature, ...] = (
    ("registerAgent", (("modelId", "uint256"), ("uri", "string")), ("uint256",), "payable"),
    ("requestUnstake", (("agentId", "uint256"),), (), "nonpayable"),
    ("withdrawStake", (("agentId", "uint256"),), ("uint256",), "nonpayable"),
    ("getAgent", (("agentId", "uint256"),),
     ("address", "uint256", "string", "uint256", "uint8", "uint256"), "view"),
)  # fmt: skip
"""The ABI of `IAgents.sol`, in its order."""


def make_agents_precompile(params: AttributionParams) -> precompile.StatefulPrecompile:
    """The agents precompile of a chain with these parameters."""
    return precompile.declare_precompile(
        "agents", AGENTS_ADDRESS, SIGNATURES, _AgentMethods(params), AGENTS_GAS, AGENTS_EVENTS
    )


class _AgentMethods(precompile.MethodHandlers[AttributionParams]):
    """The handlers; each is called with the `Call` and the decoded arguments."""

    def registerAgent(self, call: Call, model: int, uri: str) -> int:  # noqa: N802
        records = Records(call.storage)
        if models_of(call.state).get(MODEL_OWNER, model) == 0:
            call.revert(f"no model {model}")
        if call.value < self.params.min_agent_stake:
            call.revert(f"stake of {call.value} wei is below the minimum "
                        f"{self.params.min_agent_stake}")  # fmt: skip
        agent = records.add(AGENT_COUNT, delta=1)
        records.set_address(AGENT_OWNER, agent, to=call.sender)
        records.set(AGENT_MODEL, agent, to=model)
        records.set_string(AGENT_URI, agent, to=uri)
        records.set(AGENT_STAKE, agent, to=call.value)
        records.set(AGENT_STATUS, agent, to=AgentStatus.ACTIVE)
        call.emit(AGENT_REGISTERED, agent, call.sender, model, uri, call.value)
        return agent

    def requestUnstake(self, call: Call, agent: int) -> None:  # noqa: N802
        records = Records(call.storage)
        status = _require_owner(call, records, agent)
        if status != AgentStatus.ACTIVE:
            call.revert(f"agent {agent} is already unstaking or withdrawn")
        withdrawable = call.block_number + self.params.agent_unbonding_blocks
        stake = records.get(AGENT_STAKE, agent)
        records.set(AGENT_STATUS, agent, to=AgentStatus.UNBONDING)
        records.set(AGENT_WITHDRAWABLE, agent, to=withdrawable)
        call.emit(UNSTAKE_REQUESTED, agent, call.sender, stake, withdrawable)

    def withdrawStake(self, call: Call, agent: int) -> int:  # noqa: N802
        records = Records(call.storage)
        status = _require_owner(call, records, agent)
        if status != AgentStatus.UNBONDING:
            call.revert(
                f"agent {agent} is still active: request to unstake first"
                if status == AgentStatus.ACTIVE
                else f"the stake of agent {agent} was already withdrawn"
            )
        withdrawable = records.get(AGENT_WITHDRAWABLE, agent)
        if call.block_number < withdrawable:
            call.revert(f"the stake of agent {agent} unbonds until block {withdrawable}")
        amount = records.get(AGENT_STAKE, agent)
        records.set(AGENT_STAKE, agent, to=0)
        records.set(AGENT_STATUS, agent, to=AgentStatus.WITHDRAWN)
        call.pay(call.sender, amount)
        call.emit(STAKE_WITHDRAWN, agent, call.sender, amount)
        return amount

    def getAgent(self, call: Call, agent: int) -> tuple[Any, ...]:  # noqa: N802
        records = Records(call.storage)
        status = records.get(AGENT_STATUS, agent)
        if status == 0:
            call.revert(f"no agent {agent}")
        return (
            records.get_address(AGENT_OWNER, agent),
            records.get(AGENT_MODEL, agent),
            records.get_string(AGENT_URI, agent),
            records.get(AGENT_STAKE, agent),
            status,
            records.get(AGENT_WITHDRAWABLE, agent),
        )


def _require_owner(call: Call, records: Records, agent: int) -> int:
    """The agent's status; reverts unless the caller owns the agent."""
    status = records.get(AGENT_STATUS, agent)
    if status == 0:
        call.revert(f"no agent {agent}")
    owner = records.get_address(AGENT_OWNER, agent)
    if call.sender != owner:
        call.revert(f"only the owner of agent {agent} ({hex_address(owner)}) may do this")
    return status
