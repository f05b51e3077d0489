"""The attribution and rewards precompile at `0x0000000000000000000000000000000000000a04`
(`IAttribution.sol`).

`recordInference` is called by a model's operator with the fee as `msg.value`, the contributions
that influenced the output with their weights, and a commitment to the attribution evidence. It
checks, in order:

- the model exists, uses declared weights (a span model records with `recordSpanInference`,
  `span_records`) and the caller is its operator; `msg.value` is at least the model's fee (the
  whole `msg.value` is the fee that is split);
- `inferenceHash` is non-zero and not recorded before (it identifies the inference: an operator
  cannot be paid twice for one);
- the agent, when one is named (`agentId != 0`), is active and serves this model;
- 1 to `maxContributionsPerInference` contributions, as many weights, every weight positive,
  no contribution twice;
- each contribution is accepted, not flagged, and in the version of its Datanet the model cites.

It then splits the fee (`attribution.split`): the protocol share goes to the `ProtocolSink`
(`attribution.sink`), the others accrue as pending rewards in this precompile's balance, and
`claim()` pays the caller's pending rewards, with the span payouts whose window has ended
(`locks`). Nothing is paid out during `recordInference`, so the fee is in this precompile's
balance until claimed (or until the sink moves the protocol share).
"""

from typing import Any

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from openledger.attribution.events import (
    CONTRIBUTION_REWARDED,
    FEE_SPLIT,
    INFERENCE_RECORDED,
    REWARDS_CLAIMED,
)
from openledger.attribution.layout import (
    AGENT_MODEL,
    AGENT_OWNER,
    AGENT_STATUS,
    CONTRIBUTION_EARNINGS,
    CONTRIBUTOR_STATS,
    FLAGS,
    INFERENCE_AGENT,
    INFERENCE_ATTRIBUTION,
    INFERENCE_BLOCK,
    INFERENCE_BY_HASH,
    INFERENCE_COUNT,
    INFERENCE_EVIDENCE,
    INFERENCE_FEE,
    INFERENCE_HASH,
    INFERENCE_MODEL,
    INFERENCE_OPERATOR,
    MODEL_FEE,
    MODEL_OPERATOR,
    MODEL_OWNER,
    PENDING,
    AgentStatus,
    AttributionMethod,
    Records,
    agents_of,
    datanets_of,
    models_of,
    read_model_method,
)
from openledger.attribution.locks import count_unswept, sweep, total_unswept
from openledger.attribution.membership import require_member
from openledger.attribution.sink import ProtocolSink
from openledger.attribution.split import FeeSplit, compute_fee_split
from openledger.genesis.model import AttributionParams
from openledger.genesis.types import Address
from openledger.state import precompile
from openledger.state.precompile import Call, hex_address

ZERO_ADDRESS = Address(b"\x00" * 20)

SIGNATURES: tuple[precompile.Signature, ...] = (
    ("recordInference", (("modelId", "uint256"), ("agentId", "uint256"),
                         ("inferenceHash", "bytes32"), ("contributionIds", "uint256[]"),
                         ("weights", "uint256[]"), ("evidenceRoot", "bytes32")),
     ("uint256",), "payable"),
    ("claim", (), ("uint256",), "nonpayable"),
    ("pendingRewards", (("account", "address"),), ("uint256",), "view"),
    ("getInference", (("inferenceId", "uint256"),),
     ("uint256", "uint256", "address", "bytes32", "bytes32", "uint256", "uint256", "bytes32"),
     "view"),
    ("inferenceByHash", (("inferenceHash", "bytes32"),), ("uint256",), "view"),
    ("contributionEarnings", (("contributionId", "uint256"),), ("uint256", "uint256"), "view"),
    ("contributorStats", (("account", "address"),), ("uint256", "uint256", "uint256"), "view"),
)  # fmt: skip
"""The declared-weights part of the ABI of `IAttribution.sol` (`rewards_precompile` adds the
span methods)."""


def compute_attribution_hash(contributions: tuple[int, ...], weights: tuple[int, ...]) -> bytes:
    """keccak256(abi.encode(contributionIds, weights)): what an inference record keeps of its
    attribution (the event carries the lists)."""
    return keccak(abi_encode(["uint256[]", "uint256[]"], [contributions, weights]))


class RewardMethods(precompile.MethodHandlers[AttributionParams]):
    """The declared-weights handlers and the steps span records share; each handler is called
    with the `Call` and the decoded arguments."""

    def __init__(self, params: AttributionParams, sink: ProtocolSink) -> None:
        super().__init__(params)
        self.sink = sink

    def recordInference(  # noqa: N802
        self,
        call: Call,
        model: int,
        agent: int,
        inference_hash: bytes,
        contributions: tuple[int, ...],
        weights: tuple[int, ...],
        evidence_root: bytes,
    ) -> int:
        records = Records(call.storage)
        model_owner = self._check_model(call, model, AttributionMethod.DECLARED)
        self._check_hash(call, records, inference_hash)
        agent_owner = self._check_agent(call, model, agent)
        contributors = self._check_contributions(call, model, contributions, weights)

        split = compute_fee_split(self.params, call.value, weights, has_agent=agent != 0)
        inference = self._store_record(call, records, model, agent, inference_hash,
                                       evidence_root, contributions, weights)  # fmt: skip
        self._accrue_shares(call, records, inference, split, model_owner, agent_owner)
        for contribution, contributor, amount in zip(
            contributions, contributors, split.contributions, strict=True
        ):
            records.add(PENDING, contributor, delta=amount)
            records.add_tally(CONTRIBUTION_EARNINGS, contribution, amount=amount)
            records.add_tally(CONTRIBUTOR_STATS, contributor, amount=amount)
            call.emit(CONTRIBUTION_REWARDED, inference, contribution, contributor, amount)
        return inference

    def _store_record(
        self,
        call: Call,
        records: Records,
        model: int,
        agent: int,
        inference_hash: bytes,
        evidence_root: bytes,
        contributions: tuple[int, ...],
        weights: tuple[int, ...],
    ) -> int:
        """Store an inference record and emit `InferenceRecorded`; returns its id."""
        inference = records.add(INFERENCE_COUNT, delta=1)
        records.set(INFERENCE_MODEL, inference, to=model)
        records.set(INFERENCE_AGENT, inference, to=agent)
        records.set_address(INFERENCE_OPERATOR, inference, to=call.sender)
        records.set_hash(INFERENCE_HASH, inference, to=inference_hash)
        records.set_hash(INFERENCE_EVIDENCE, inference, to=evidence_root)
        records.set(INFERENCE_FEE, inference, to=call.value)
        records.set(INFERENCE_BLOCK, inference, to=call.block_number)
        records.set_hash(INFERENCE_ATTRIBUTION, inference,
                         to=compute_attribution_hash(contributions, weights))  # fmt: skip
        records.set(INFERENCE_BY_HASH, inference_hash, to=inference)
        call.emit(INFERENCE_RECORDED, inference, model, agent, call.sender, inference_hash,
                  evidence_root, call.value, list(contributions), list(weights))  # fmt: skip
        return inference

    def claim(self, call: Call) -> int:
        records, account = Records(call.storage), call.sender
        amount = records.get(PENDING, account) + sweep(records, account, call.block_number)
        if amount == 0:
            waiting = " past their challenge window" if count_unswept(records, account) else ""
            call.revert(f"{hex_address(account)} has no pending rewards{waiting}")
        records.set(PENDING, account, to=0)
        call.pay(account, amount)
        call.emit(REWARDS_CLAIMED, account, amount)
        return amount

    # --- views ----------------------------------------------------------------------------------

    def pendingRewards(self, call: Call, account: Address) -> int:  # noqa: N802
        records = Records(call.storage)
        unswept, _ = total_unswept(records, account, call.block_number)
        return records.get(PENDING, account) + unswept

    def getInference(self, call: Call, inference: int) -> tuple[Any, ...]:  # noqa: N802
        records = Records(call.storage)
        model = records.get(INFERENCE_MODEL, inference)
        if model == 0:
            call.revert(f"no inference {inference}")
        return (
            model,
            records.get(INFERENCE_AGENT, inference),
            records.get_address(INFERENCE_OPERATOR, inference),
            records.get_hash(INFERENCE_HASH, inference),
            records.get_hash(INFERENCE_EVIDENCE, inference),
            records.get(INFERENCE_FEE, inference),
            records.get(INFERENCE_BLOCK, inference),
            records.get_hash(INFERENCE_ATTRIBUTION, inference),
        )

    def inferenceByHash(self, call: Call, inference_hash: bytes) -> int:  # noqa: N802
        return Records(call.storage).get(INFERENCE_BY_HASH, inference_hash)

    def contributionEarnings(self, call: Call, contribution: int) -> tuple[int, int]:  # noqa: N802
        inferences, earned = Records(call.storage).get_tally(CONTRIBUTION_EARNINGS, contribution)
        return earned, inferences

    def contributorStats(self, call: Call, account: Address) -> tuple[int, int, int]:  # noqa: N802
        attributions, earned = Records(call.storage).get_tally(CONTRIBUTOR_STATS, account)
        return attributions, earned, datanets_of(call.state).get(FLAGS, account)

    # --- steps of recordInference ---------------------------------------------------------------

    def _check_model(self, call: Call, model: int, method: AttributionMethod) -> Address:
        """The model's owner, after checking it uses `method`, the caller operates it and pays
        its fee."""
        models = models_of(call.state)
        word = models.get(MODEL_OWNER, model)
        if word == 0:
            call.revert(f"no model {model}")
        if read_model_method(word) != method:
            call.revert(
                f"model {model} uses verbatim spans: record with recordSpanInference"
                if method == AttributionMethod.DECLARED
                else f"model {model} uses declared weights: record with recordInference"
            )
        owner = Address(word.to_bytes(32, "big")[12:])
        operator = models.get_address(MODEL_OPERATOR, model)
        if call.sender != operator:
            call.revert(f"only the operator of model {model} ({hex_address(operator)}) may "
                        "record its inferences")  # fmt: skip
        fee = models.get(MODEL_FEE, model)
        if call.value < fee:
            call.revert(f"fee of {call.value} wei is below the model's price of {fee} wei")
        return owner

    def _check_hash(self, call: Call, records: Records, inference_hash: bytes) -> None:
        """Refuse a zero or already recorded inference hash."""
        if inference_hash == bytes(32):
            call.revert("inference hash is zero")
        recorded = records.get(INFERENCE_BY_HASH, inference_hash)
        if recorded:
            call.revert(f"inference 0x{inference_hash.hex()} is already recorded as {recorded}")

    def _check_agent(self, call: Call, model: int, agent: int) -> Address:
        """The agent's owner (zero when no agent is named), after checking it may be named."""
        if agent == 0:
            return ZERO_ADDRESS
        agents = agents_of(call.state)
        status = agents.get(AGENT_STATUS, agent)
        if status == 0:
            call.revert(f"no agent {agent}")
        if status != AgentStatus.ACTIVE:
            call.revert(f"agent {agent} is unstaking and may not be named")
        served = agents.get(AGENT_MODEL, agent)
        if served != model:
            call.revert(f"agent {agent} serves model {served}, not model {model}")
        return agents.get_address(AGENT_OWNER, agent)

    def _check_contributions(
        self, call: Call, model: int, contributions: tuple[int, ...], weights: tuple[int, ...]
    ) -> list[Address]:
        """The contributors, after checking every contribution may earn from this model."""
        limit = self.params.max_contributions_per_inference
        if len(contributions) != len(weights):
            call.revert(f"{len(contributions)} contributions but {len(weights)} weights")
        if not 1 <= len(contributions) <= limit:
            call.revert(f"an inference credits from 1 to {limit} contributions, not "
                        f"{len(contributions)}")  # fmt: skip
        if len(set(contributions)) != len(contributions):
            call.revert("a contribution is listed twice")
        contributors = []
        for contribution, weight in zip(contributions, weights, strict=True):
            if weight == 0:
                call.revert(f"contribution {contribution} has weight zero")
            contributors.append(require_member(call, model, contribution))
        return contributors

    def _accrue_shares(
        self,
        call: Call,
        records: Records,
        inference: int,
        split: FeeSplit,
        model_owner: Address,
        agent_owner: Address,
    ) -> None:
        """Hand the protocol share to the sink, accrue the owners' shares and emit `FeeSplit`."""
        self.sink(call.state, split.protocol)
        records.add(PENDING, model_owner, delta=split.model_owner)
        if agent_owner != ZERO_ADDRESS:
            records.add(PENDING, agent_owner, delta=split.agent_owner)
        call.emit(FEE_SPLIT, inference, split.protocol, model_owner, split.model_owner,
                  agent_owner, split.agent_owner, split.contributors)  # fmt: skip
