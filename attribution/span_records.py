"""Span records on the attribution precompile: `recordSpanInference` and its views.

A verbatim-span model's operator records an inference with the output's content root and length
and the span evidence (`engine.evidence`: entries of `(outputStart, length, contributionId,
contributionStart)`, four 32-byte words each). The precompile checks, in order, beside what
`recordInference` checks of the model, the hash and the agent:

- the model's bond covers the fee: `bond >= max(minOperatorBond, bondFeeMultiple * msg.value)`;
- the output is not empty; the evidence decodes and has at most `maxSpanEntries` entries, and is
  well formed (`group_spans`: sorted, in range, long enough, maximal, group sizes);
- every contribution the evidence names (credited or boilerplate witness) is in the model's index
  now (`membership`), and at most `maxContributionsPerInference` are credited.

It computes the weights itself (`compute_weights`), stores what challenges need (output root and
length, `evidenceRoot = keccak256(evidence)`, the record's block and the block its window ends,
the locked total) and splits the fee as `recordInference` does, except that the contributors'
payouts are locked (`locks`) until `challengeWindow` blocks have passed. With no credited span,
the contributors' share goes to the protocol (nobody's data earned it, and the operator must not
gain by omitting spans); `FeeSplit` then reports it in `protocolShare`.
"""

from typing import Any

from eth_hash.auto import keccak

from openledger.attribution.engine.evidence import (
    ENTRY_BYTES,
    EvidenceError,
    SpanParams,
    compute_weights,
    decode_evidence,
    group_spans,
)
from openledger.attribution.events import CONTRIBUTION_REWARDED, SPAN_INFERENCE_RECORDED
from openledger.attribution.layout import (
    INFERENCE_MODEL,
    MODEL_BOND,
    MODEL_SPAN_MATURES,
    SPAN_LOCKED,
    SPAN_MATURES,
    SPAN_OUTPUT_LENGTH,
    SPAN_OUTPUT_ROOT,
    SPAN_VOIDED,
    AttributionMethod,
    Records,
    models_of,
)
from openledger.attribution.locks import lock_payout, total_unswept
from openledger.attribution.membership import require_member
from openledger.attribution.rewards import RewardMethods
from openledger.attribution.span_models import PinnedSpanParams
from openledger.attribution.split import FeeSplit, compute_fee_split
from openledger.genesis.types import Address
from openledger.state.precompile import Call, Signature

SPAN_SIGNATURES: tuple[Signature, ...] = (
    ("recordSpanInference", (("modelId", "uint256"), ("agentId", "uint256"),
                             ("inferenceHash", "bytes32"), ("outputRoot", "bytes32"),
                             ("outputLength", "uint256"), ("evidence", "bytes")),
     ("uint256",), "payable"),
    ("lockedRewards", (("account", "address"),), ("uint256",), "view"),
    ("getSpanInference", (("inferenceId", "uint256"),),
     ("uint8", "bytes32", "uint256", "uint256", "uint256"), "view"),
)  # fmt: skip
"""The span-record methods of `IAttribution.sol`."""

UNVERIFIED, IN_WINDOW, FINAL, VOIDED = 1, 2, 3, 4
"""States of a record (`getSpanInference`)."""


def span_params(pinned: PinnedSpanParams) -> SpanParams:
    """The engine's parameters of a model's pinned ones."""
    return SpanParams(pinned.min_span_bytes, pinned.max_occurrences, pinned.omission_bytes)


def derive_weights(evidence: bytes, output_length: int, pinned: PinnedSpanParams) -> dict[int, int]:
    """The weights the evidence implies; raises `EvidenceError` when it is malformed."""
    if len(evidence) > pinned.max_span_entries * ENTRY_BYTES:
        raise EvidenceError(f"{len(evidence) // ENTRY_BYTES} entries are more than "
                            f"maxSpanEntries ({pinned.max_span_entries})")  # fmt: skip
    return compute_weights(group_spans(decode_evidence(evidence), output_length,
                                       span_params(pinned)))  # fmt: skip


class SpanRecordMethods(RewardMethods):
    """The declared-weights handlers plus span records."""

    def recordSpanInference(  # noqa: N802
        self,
        call: Call,
        model: int,
        agent: int,
        inference_hash: bytes,
        output_root: bytes,
        output_length: int,
        evidence: bytes,
    ) -> int:
        records, models = Records(call.storage), models_of(call.state)
        model_owner = self._check_model(call, model, AttributionMethod.SPANS)
        self._check_hash(call, records, inference_hash)
        agent_owner = self._check_agent(call, model, agent)
        pinned = PinnedSpanParams.load(models, model)
        bond, required = models.get(MODEL_BOND, model), pinned.required_bond(call.value)
        if bond < required:
            call.revert(f"model {model}'s bond of {bond} wei is below the {required} wei a fee "
                        f"of {call.value} wei needs")  # fmt: skip
        if output_length == 0:
            call.revert("the output is empty")
        try:
            weights = derive_weights(evidence, output_length, pinned)
        except EvidenceError as error:
            call.revert(f"evidence: {error}")
        contributors = {
            entry.contribution_id: require_member(call, model, entry.contribution_id)
            for entry in decode_evidence(evidence)
        }
        limit = self.params.max_contributions_per_inference
        if len(weights) > limit:
            call.revert(f"the evidence credits {len(weights)} contributions, more than "
                        f"maxContributionsPerInference ({limit})")  # fmt: skip

        credited, amounts = tuple(weights), tuple(weights.values())
        split = compute_fee_split(self.params, call.value, amounts or (1,), has_agent=agent != 0)
        if not credited:  # nobody's data earned the contributors' share: the protocol takes it
            split = FeeSplit(split.protocol + split.contributors, split.model_owner,
                             split.agent_owner, ())  # fmt: skip
        evidence_root = keccak(evidence)
        inference = self._store_record(call, records, model, agent, inference_hash,
                                       evidence_root, credited, amounts)  # fmt: skip
        matures = call.block_number + pinned.challenge_window
        records.set_hash(SPAN_OUTPUT_ROOT, inference, to=output_root)
        records.set(SPAN_OUTPUT_LENGTH, inference, to=output_length)
        records.set(SPAN_MATURES, inference, to=matures)
        records.set(SPAN_LOCKED, inference, to=split.contributors)
        records.set(MODEL_SPAN_MATURES, model, to=matures)
        self._accrue_shares(call, records, inference, split, model_owner, agent_owner)
        for contribution, amount in zip(credited, split.contributions, strict=True):
            contributor = contributors[contribution]
            lock_payout(records, contributor, inference, contribution, amount)
            call.emit(CONTRIBUTION_REWARDED, inference, contribution, contributor, amount)
        call.emit(SPAN_INFERENCE_RECORDED, inference, model, output_root, output_length, matures,
                  evidence)  # fmt: skip
        return inference

    # --- views ----------------------------------------------------------------------------------

    def lockedRewards(self, call: Call, account: Address) -> int:  # noqa: N802
        _, locked = total_unswept(Records(call.storage), account, call.block_number)
        return locked

    def getSpanInference(self, call: Call, inference: int) -> tuple[Any, ...]:  # noqa: N802
        records = Records(call.storage)
        if records.get(INFERENCE_MODEL, inference) == 0:
            call.revert(f"no inference {inference}")
        matures = records.get(SPAN_MATURES, inference)
        if matures == 0:
            return (UNVERIFIED, bytes(32), 0, 0, 0)
        voided = records.get(SPAN_VOIDED, inference)
        state = VOIDED if voided else IN_WINDOW if call.block_number < matures else FINAL
        return (state, records.get_hash(SPAN_OUTPUT_ROOT, inference),
                records.get(SPAN_OUTPUT_LENGTH, inference), matures, voided)  # fmt: skip
