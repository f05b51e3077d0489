"""Auditing a span record: re-derive it, and when it is wrong build the challenge that proves it.

`audit` compares a record's evidence with what `trace` derives from the same index and output;
where they differ in a way a challenge can prove, it returns that challenge (the first found, in
the order: mismatch, boundaries, earlier holder, omission). `check_challenge` runs the matching
pure check of `checks`, as the chain will. Nothing here reads or writes chain state: the caller
passes the contributions' bytes (checked against their roots) and their roots.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openledger.attribution.content import RangeProof, build_range_proof, compute_content_root
from openledger.attribution.engine.checks import (
    verify_boundaries,
    verify_earlier,
    verify_mismatch,
    verify_omission,
)
from openledger.attribution.engine.evidence import Entry, SpanParams, is_word_end, is_word_start
from openledger.attribution.engine.index import SpanIndex
from openledger.attribution.engine.trace import trace


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Entry `entry` of the record: byte `at` of its span differs (or the span does not fit)."""

    entry: int
    at: int
    output_proof: RangeProof
    contribution_proof: RangeProof | None


@dataclass(frozen=True, slots=True)
class Boundaries:
    """Entry `entry`'s span does not run from a word start to a word end."""

    entry: int
    start_proof: RangeProof
    end_proof: RangeProof


@dataclass(frozen=True, slots=True)
class Earlier:
    """Entry `entry` credits its span, which contribution `earlier_id` (a lower id) holds."""

    entry: int
    earlier_id: int
    earlier_start: int
    output_proof: RangeProof
    earlier_proof: RangeProof


@dataclass(frozen=True, slots=True)
class Omission:
    """Output bytes `start .. start+length-1`, held by `holder_id`, are covered by no span."""

    start: int
    length: int
    holder_id: int
    holder_start: int
    output_proof: RangeProof
    holder_proof: RangeProof


Challenge = Mismatch | Boundaries | Earlier | Omission


@dataclass(frozen=True, slots=True)
class Audit:
    """The verdict on a record."""

    consistent: bool
    """The record is exactly what `trace` derives."""
    challenge: Challenge | None
    """A proof that it is wrong, when one exists."""
    finding: str
    """What was found, in words."""


def audit(
    index: SpanIndex,
    output: bytes,
    entries: Sequence[Entry],
    contents: Mapping[int, bytes],
    params: SpanParams,
) -> Audit:
    """Audit the record `entries` of `output`; `contents` holds every indexed contribution."""
    honest = trace(index, output, params)
    if tuple(entries) == honest.entries:
        return Audit(True, None, "consistent")
    for position, entry in enumerate(entries):
        challenge = _entry_challenge(output, position, entry, contents.get(entry.contribution_id))
        if challenge is not None:
            return Audit(False, challenge, f"entry {position}: {type(challenge).__name__.lower()}")
    for position, entry in enumerate(entries):
        if sum(e.output_start == entry.output_start for e in entries) > 1:
            continue
        piece = output[entry.output_start : entry.output_start + entry.length]
        holders = index.holders(piece)
        lowest = min(holders, default=entry.contribution_id)
        if lowest < entry.contribution_id:
            at = holders[lowest]
            output_proof = _proof(output, entry.output_start, entry.length)
            earlier = Earlier(position, lowest, at, output_proof,
                              _proof(contents[lowest], at, entry.length))  # fmt: skip
            finding = (f"entry {position} credits contribution {entry.contribution_id}; "
                       f"contribution {lowest} holds the span earlier")  # fmt: skip
            return Audit(False, earlier, finding)
    for span in honest.entries:
        end = span.output_start + span.length
        covered = any(e.output_start <= span.output_start and end <= e.output_start + e.length
                      for e in entries)  # fmt: skip
        if not covered and span.length >= params.omission_bytes:
            lo, hi = max(span.output_start - 1, 0), min(end + 1, len(output))
            held = _proof(contents[span.contribution_id], span.contribution_start, span.length)
            omission = Omission(span.output_start, span.length, span.contribution_id,
                                span.contribution_start, _proof(output, lo, hi - lo), held)  # fmt: skip
            finding = (f"output bytes {span.output_start}..{end - 1}, held by contribution "
                       f"{span.contribution_id}, are covered by no span")  # fmt: skip
            return Audit(False, omission, finding)
    return Audit(False, None, "the record differs from the derived one, but no challenge proves it")


def check_challenge(
    challenge: Challenge,
    output_root: bytes,
    output_length: int,
    entries: Sequence[Entry],
    roots: Mapping[int, tuple[bytes, int]],
    params: SpanParams,
) -> None:
    """Run the check of `challenge` (`checks`); `roots` maps contribution ids to (root, length).
    Returns when the fault is proven; raises `ChallengeRejected` otherwise."""
    match challenge:
        case Mismatch(entry, at, output_proof, contribution_proof):
            root, length = roots[entries[entry].contribution_id]
            verify_mismatch(output_root, output_length, entries[entry], root, length, at,
                            output_proof, contribution_proof)  # fmt: skip
        case Boundaries(entry, start_proof, end_proof):
            verify_boundaries(output_root, output_length, entries[entry], start_proof, end_proof)
        case Earlier(entry, earlier_id, earlier_start, output_proof, earlier_proof):
            root, length = roots[earlier_id]
            verify_earlier(output_root, output_length, entries, entry, earlier_id, root, length,
                           earlier_start, output_proof, earlier_proof)  # fmt: skip
        case Omission(start, length, holder_id, holder_start, output_proof, holder_proof):
            root, size = roots[holder_id]
            verify_omission(output_root, output_length, entries, params, start, length, root,
                            size, holder_start, output_proof, holder_proof)  # fmt: skip


def compute_roots(contents: Mapping[int, bytes]) -> dict[int, tuple[bytes, int]]:
    """Each contribution's (content root, length), as the chain holds them."""
    return {cid: (compute_content_root(data), len(data)) for cid, data in contents.items()}


def _entry_challenge(
    output: bytes, position: int, entry: Entry, data: bytes | None
) -> Challenge | None:
    """A mismatch or boundary challenge of one entry, if it has one."""
    start, end = entry.output_start, entry.output_start + entry.length
    if data is None or end > len(output) or entry.length == 0:
        return None  # not a cited contribution, or refused when recorded: nothing to prove here
    if entry.contribution_start + entry.length > len(data):
        return Mismatch(position, 0, _proof(output, start, 1), None)
    held = data[entry.contribution_start : entry.contribution_start + entry.length]
    for at, (ours, theirs) in enumerate(zip(output[start:end], held, strict=True)):
        if ours != theirs:
            return Mismatch(position, at, _proof(output, start + at, 1),
                            _proof(data, entry.contribution_start + at, 1))  # fmt: skip
    before = output[start - 1] if start else None
    after = output[end] if end < len(output) else None
    if not (is_word_start(before, output[start]) and is_word_end(output[end - 1], after)):
        return Boundaries(position, _proof(output, max(start - 1, 0), min(start, 1) + 1),
                          _proof(output, end - 1, 1 + (end < len(output))))  # fmt: skip
    return None


def _proof(data: bytes, start: int, size: int) -> RangeProof:
    return build_range_proof(data, start, size)
