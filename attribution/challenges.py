"""Challenges of span records on the attribution precompile: four proofs that a record is wrong.

Anyone may challenge a span record while `block < maturesAtBlock` and the record is not voided,
quoting the record's evidence (it must hash to the record's `evidenceRoot`) and range proofs
(`span_proofs`) against the content roots on chain. Each method runs the engine's pure check
(`engine.checks`), which is exact: it proves a fault or reverts with the reason, so an honest
record can never be voided. The chain adds what needs its state:

- contribution roots are the `contentHash`es of the contributions; a proof's length is proven by
  the proof itself (the root binds it). An output proof that verifies against the output root
  with another length than the record's proves the record wrong by itself (its `outputLength`
  does not match its `outputRoot`, so its ranges were checked against a false length);
- a contribution the record names whose content root is the empty content's cannot hold a span;
- the earlier holder (`challengeEarlier`) and the holder of an omitted span
  (`challengeOmission`) must have been in the model's index at the record's block
  (`membership`: accepted, in the cited version, not flagged by then).

A proven challenge voids the record: its locked contributor payouts are forfeited to the protocol
sink, the model's bond loses `min(bond, bondFeeMultiple * fee)`, of which the challenger gets
`challengerShareBps` (as a pending reward) and the protocol sink the rest. A refused challenge
reverts and changes nothing.
"""

from collections.abc import Callable

from eth_hash.auto import keccak

from openledger.attribution.content import (
    ContentProofError,
    RangeProof,
    compute_content_root,
    verify_range_proof,
)
from openledger.attribution.engine.checks import (
    ChallengeRejected,
    verify_boundaries,
    verify_earlier,
    verify_mismatch,
    verify_omission,
)
from openledger.attribution.engine.evidence import Entry, decode_evidence
from openledger.attribution.events import INFERENCE_VOIDED
from openledger.attribution.layout import (
    CONTRIBUTION_HASH,
    INFERENCE_BLOCK,
    INFERENCE_EVIDENCE,
    INFERENCE_FEE,
    INFERENCE_MODEL,
    MODEL_BOND,
    PENDING,
    SPAN_LOCKED,
    SPAN_MATURES,
    SPAN_OUTPUT_LENGTH,
    SPAN_OUTPUT_ROOT,
    SPAN_VOIDED,
    Records,
    datanets_of,
    models_of,
)
from openledger.attribution.membership import require_member
from openledger.attribution.span_models import PinnedSpanParams
from openledger.attribution.span_proofs import ProofFormatError, decode_range_proof
from openledger.attribution.span_records import SpanRecordMethods, span_params
from openledger.genesis.model import MODELS_ADDRESS
from openledger.state.precompile import Call, PrecompileRevert, Signature

MISMATCH, BOUNDARIES, EARLIER, OMISSION = 1, 2, 3, 4
"""Proof kinds (`InferenceVoided.kind`)."""
EMPTY_CONTENT_ROOT = compute_content_root(b"")

_RECORD = (("inferenceId", "uint256"), ("evidence", "bytes"))
CHALLENGE_SIGNATURES: tuple[Signature, ...] = (
    ("challengeMismatch", (*_RECORD, ("entryIndex", "uint256"), ("at", "uint256"),
                           ("outputProof", "bytes"), ("contributionProof", "bytes")),
     ("uint256",), "nonpayable"),
    ("challengeBoundaries", (*_RECORD, ("entryIndex", "uint256"), ("startProof", "bytes"),
                             ("endProof", "bytes")), ("uint256",), "nonpayable"),
    ("challengeEarlier", (*_RECORD, ("entryIndex", "uint256"), ("earlierId", "uint256"),
                          ("earlierStart", "uint256"), ("outputProof", "bytes"),
                          ("earlierProof", "bytes")), ("uint256",), "nonpayable"),
    ("challengeOmission", (*_RECORD, ("start", "uint256"), ("length", "uint256"),
                           ("holderId", "uint256"), ("holderStart", "uint256"),
                           ("outputProof", "bytes"), ("holderProof", "bytes")),
     ("uint256",), "nonpayable"),
)  # fmt: skip
"""The challenge methods of `IAttribution.sol`."""
PROOF_ARGS = {
    "challengeMismatch": ("outputProof", "contributionProof"),
    "challengeBoundaries": ("startProof", "endProof"),
    "challengeEarlier": ("outputProof", "earlierProof"),
    "challengeOmission": ("outputProof", "holderProof"),
}
"""The proof arguments of each challenge, whose Keccak work is metered."""


class _Proven(Exception):
    """Raised inside a check when the fault is proven before the engine's check runs."""


class _Record:
    """The stored record a challenge is judged against (after the window and evidence checks)."""

    def __init__(self, call: Call, inference: int, evidence: bytes) -> None:
        records = Records(call.storage)
        self.inference = inference
        self.model = records.get(INFERENCE_MODEL, inference)
        self.matures = records.get(SPAN_MATURES, inference)
        if self.model == 0:
            call.revert(f"no inference {inference}")
        if self.matures == 0:
            call.revert(f"inference {inference} has declared weights: nothing to challenge")
        voided = records.get(SPAN_VOIDED, inference)
        if voided:
            call.revert(f"inference {inference} was voided in block {voided}")
        if call.block_number >= self.matures:
            call.revert(f"the challenge window of inference {inference} ended at block "
                        f"{self.matures}")  # fmt: skip
        if keccak(evidence) != records.get_hash(INFERENCE_EVIDENCE, inference):
            call.revert(f"the evidence does not hash to the evidenceRoot of inference {inference}")
        self.entries = decode_evidence(evidence)
        self.block = records.get(INFERENCE_BLOCK, inference)
        self.output_root = records.get_hash(SPAN_OUTPUT_ROOT, inference)
        self.output_length = records.get(SPAN_OUTPUT_LENGTH, inference)
        self.pinned = PinnedSpanParams.load(models_of(call.state), self.model)

    def entry(self, call: Call, index: int) -> Entry:
        if index >= len(self.entries):
            call.revert(f"entry {index} is not among the record's {len(self.entries)} entries")
        return self.entries[index]

    def output_proof(self, call: Call, name: str, data: bytes) -> RangeProof:
        """The proof, after checking its length; raises `_Proven` when it verifies for another
        length than the record's."""
        length, proof = _decode(name, data)
        if length != self.output_length:
            try:
                verify_range_proof(self.output_root, length, proof)
            except ContentProofError as error:
                call.revert(f"{name}: {error}")
            raise _Proven
        return proof


class ChallengeMethods(SpanRecordMethods):
    """Span records plus their challenges: the attribution precompile's handlers."""

    def challengeMismatch(  # noqa: N802
        self, call: Call, inference: int, evidence: bytes, index: int, at: int,
        output_proof: bytes, contribution_proof: bytes,
    ) -> int:  # fmt: skip
        record = _Record(call, inference, evidence)
        entry = record.entry(call, index)

        def check() -> None:
            root = datanets_of(call.state).get_hash(CONTRIBUTION_HASH, entry.contribution_id)
            if root == EMPTY_CONTENT_ROOT:
                raise _Proven
            out = record.output_proof(call, "outputProof", output_proof)
            length, held = _decode("contributionProof", contribution_proof)
            if entry.contribution_start + entry.length > length:
                _verify(call, "contributionProof", root, length, held)  # it proves the length
                raise _Proven
            verify_mismatch(record.output_root, record.output_length, entry, root, length, at,
                            out, held)  # fmt: skip

        return self._judge(call, record, MISMATCH, check)

    def challengeBoundaries(  # noqa: N802
        self, call: Call, inference: int, evidence: bytes, index: int, start_proof: bytes,
        end_proof: bytes,
    ) -> int:  # fmt: skip
        record = _Record(call, inference, evidence)
        entry = record.entry(call, index)

        def check() -> None:
            head = record.output_proof(call, "startProof", start_proof)
            tail = record.output_proof(call, "endProof", end_proof)
            verify_boundaries(record.output_root, record.output_length, entry, head, tail)

        return self._judge(call, record, BOUNDARIES, check)

    def challengeEarlier(  # noqa: N802
        self, call: Call, inference: int, evidence: bytes, index: int, earlier: int,
        earlier_start: int, output_proof: bytes, earlier_proof: bytes,
    ) -> int:  # fmt: skip
        record = _Record(call, inference, evidence)
        record.entry(call, index)

        def check() -> None:
            require_member(call, record.model, earlier, as_of=record.block)
            root = datanets_of(call.state).get_hash(CONTRIBUTION_HASH, earlier)
            out = record.output_proof(call, "outputProof", output_proof)
            length, held = _decode("earlierProof", earlier_proof)
            verify_earlier(record.output_root, record.output_length, record.entries, index,
                           earlier, root, length, earlier_start, out, held)  # fmt: skip

        return self._judge(call, record, EARLIER, check)

    def challengeOmission(  # noqa: N802
        self, call: Call, inference: int, evidence: bytes, start: int, length: int, holder: int,
        holder_start: int, output_proof: bytes, holder_proof: bytes,
    ) -> int:  # fmt: skip
        record = _Record(call, inference, evidence)

        def check() -> None:
            require_member(call, record.model, holder, as_of=record.block)
            root = datanets_of(call.state).get_hash(CONTRIBUTION_HASH, holder)
            out = record.output_proof(call, "outputProof", output_proof)
            size, held = _decode("holderProof", holder_proof)
            verify_omission(record.output_root, record.output_length, record.entries,
                            span_params(record.pinned), start, length, root, size, holder_start,
                            out, held)  # fmt: skip

        return self._judge(call, record, OMISSION, check)

    def _judge(self, call: Call, record: _Record, kind: int, check: Callable[[], None]) -> int:
        """Run `check`; void the record when it proves the fault, else revert with its reason."""
        try:
            check()
        except _Proven:
            pass
        except ChallengeRejected as rejected:
            call.revert(f"challenge rejected: {rejected}")
        return self._void(call, record, kind)

    def _void(self, call: Call, record: _Record, kind: int) -> int:
        """Void the record, slash the bond, pay the challenger; returns the challenger's reward."""
        records, models = Records(call.storage), models_of(call.state)
        records.set(SPAN_VOIDED, record.inference, to=call.block_number)
        forfeited = records.get(SPAN_LOCKED, record.inference)
        bond = models.get(MODEL_BOND, record.model)
        slashed = record.pinned.slash(records.get(INFERENCE_FEE, record.inference), bond)
        models.set(MODEL_BOND, record.model, to=bond - slashed)
        # The slashed wei move from the models precompile's balance, where bonds are held, to
        # this one's, whose pending rewards and sink pay them out.
        call.state.delta_balance(MODELS_ADDRESS, -slashed)
        call.state.delta_balance(call.address, slashed)
        reward = record.pinned.challenger_reward(slashed)
        records.add(PENDING, call.sender, delta=reward)
        self.sink(call.state, forfeited + slashed - reward)
        call.emit(INFERENCE_VOIDED, record.inference, record.model, call.sender, kind, forfeited,
                  slashed, reward)  # fmt: skip
        return reward


def _decode(name: str, data: bytes) -> tuple[int, RangeProof]:
    try:
        return decode_range_proof(data)
    except ProofFormatError as error:
        raise PrecompileRevert(f"{name}: {error}") from None


def _verify(call: Call, name: str, root: bytes, length: int, proof: RangeProof) -> None:
    try:
        verify_range_proof(root, length, proof)
    except ContentProofError as error:
        call.revert(f"{name}: {error}")
