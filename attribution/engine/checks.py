"""The pure checks behind challenges of a span record: each takes only what a challenge carries
(roots, lengths, evidence entries, range proofs) and either returns (the fault is proven) or raises
`ChallengeRejected` with the reason (a wrong proof, or no fault).

What the chain must check beside (not done here, it needs chain state): the contributions named
are in the model's cited versions, accepted and not flagged when the record was made; the entry is
one of the record's.

Why an honest record (`trace.trace`) is never successfully challenged:

- `verify_mismatch`: every entry's bytes were found at that place in that contribution.
- `verify_boundaries`: every span runs from a word start to a word end.
- `verify_earlier`: a credited span names the lowest id of all holders in the index.
- `verify_omission`: every word-bounded output piece some indexed contribution holds, at least
  `min_span_bytes` long, lies inside a maximal span, and every maximal span is in the evidence
  (credited or boilerplate); `omission_bytes >= min_span_bytes`.
"""

from collections.abc import Sequence

from openledger.attribution.content import ContentProofError, RangeProof, open_range
from openledger.attribution.engine.evidence import Entry, SpanParams, is_word_end, is_word_start
from openledger.genesis.errors import OpenLedgerError


class ChallengeRejected(OpenLedgerError):
    """A challenge proves no fault (its proof is wrong, or the record is right there)."""


def verify_mismatch(
    output_root: bytes,
    output_length: int,
    entry: Entry,
    contribution_root: bytes,
    contribution_length: int,
    at: int,
    output_proof: RangeProof,
    contribution_proof: RangeProof | None,
) -> None:
    """Fault: byte `at` of the entry's span differs between the output and the contribution, or
    the span does not fit in the contribution (then `contribution_proof` may be None)."""
    if not 0 <= at < entry.length:
        raise ChallengeRejected(f"byte {at} is not inside the span of {entry.length} bytes")
    if entry.contribution_start + entry.length > contribution_length:
        return
    if contribution_proof is None:
        raise ChallengeRejected("the span fits in the contribution: a contribution proof is needed")
    output_byte = _open(output_root, output_length, entry.output_start + at, 1, output_proof)
    held_byte = _open(
        contribution_root, contribution_length, entry.contribution_start + at, 1, contribution_proof
    )
    if output_byte == held_byte:
        raise ChallengeRejected(f"byte {at} of the span is the same in output and contribution")


def verify_boundaries(
    output_root: bytes,
    output_length: int,
    entry: Entry,
    start_proof: RangeProof,
    end_proof: RangeProof,
) -> None:
    """Fault: the entry's span does not start at a word start or does not end at a word end.

    `start_proof` covers the span's first byte and the one before it (if any); `end_proof` its
    last byte and the one after it (if any)."""
    start, end = entry.output_start, entry.output_start + entry.length
    if entry.length == 0 or end > output_length:
        return
    head = _open(output_root, output_length, max(start - 1, 0), min(start, 1) + 1, start_proof)
    tail_size = 1 + (end < output_length)
    tail = _open(output_root, output_length, end - 1, tail_size, end_proof)
    before = head[0] if start else None
    after = tail[1] if end < output_length else None
    if is_word_start(before, head[-1]) and is_word_end(tail[0], after):
        raise ChallengeRejected("the span starts at a word start and ends at a word end")


def verify_earlier(
    output_root: bytes,
    output_length: int,
    entries: Sequence[Entry],
    position: int,
    earlier_id: int,
    earlier_root: bytes,
    earlier_length: int,
    earlier_start: int,
    output_proof: RangeProof,
    earlier_proof: RangeProof,
) -> None:
    """Fault: entry `position` of the record credits its span (it is the span's one entry), and
    contribution `earlier_id`, lower than the credited one, holds the span's bytes at
    `earlier_start`."""
    entry = entries[position]
    if any(e.output_start == entry.output_start for e in entries if e is not entry):
        raise ChallengeRejected(f"the span at {entry.output_start} is boilerplate: it credits none")
    if earlier_id >= entry.contribution_id:
        raise ChallengeRejected(
            f"contribution {earlier_id} is not earlier than contribution {entry.contribution_id}"
        )
    span = _open(output_root, output_length, entry.output_start, entry.length, output_proof)
    held = _open(earlier_root, earlier_length, earlier_start, entry.length, earlier_proof)
    if span != held:
        raise ChallengeRejected(f"contribution {earlier_id} does not hold the span there")


def verify_omission(
    output_root: bytes,
    output_length: int,
    entries: Sequence[Entry],
    params: SpanParams,
    start: int,
    length: int,
    holder_root: bytes,
    holder_length: int,
    holder_start: int,
    output_proof: RangeProof,
    holder_proof: RangeProof,
) -> None:
    """Fault: output bytes `start .. start+length-1`, word-bounded and at least `omission_bytes`
    long, are held by a cited contribution at `holder_start`, and no span of the record covers
    them. `output_proof` covers them and the byte on each side (where there is one)."""
    if length < params.omission_bytes:
        raise ChallengeRejected(f"{length} bytes are fewer than the omission length "
                                f"{params.omission_bytes}")  # fmt: skip
    end = start + length
    if start < 0 or end > output_length:
        raise ChallengeRejected(f"bytes {start}..{end - 1} are outside the output")
    for entry in entries:
        if entry.output_start <= start and end <= entry.output_start + entry.length:
            raise ChallengeRejected(f"the span at {entry.output_start} covers those bytes")
    lo, hi = max(start - 1, 0), min(end + 1, output_length)
    window = _open(output_root, output_length, lo, hi - lo, output_proof)
    piece = window[start - lo : start - lo + length]
    before = window[0] if start > 0 else None
    after = window[-1] if end < output_length else None
    if not (is_word_start(before, piece[0]) and is_word_end(piece[-1], after)):
        raise ChallengeRejected("those bytes do not run from a word start to a word end")
    if _open(holder_root, holder_length, holder_start, length, holder_proof) != piece:
        raise ChallengeRejected("the contribution does not hold those bytes there")


def _open(root: bytes, length: int, start: int, size: int, proof: RangeProof) -> bytes:
    try:
        return open_range(root, length, start, size, proof)
    except ContentProofError as error:
        raise ChallengeRejected(f"bad range proof: {error}") from None
