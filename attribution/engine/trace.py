"""`trace`: the maximal verbatim spans of an output in an index, and the record they imply;
`overlap`: how much of a candidate contribution the index already holds.

The spans are OLMoTrace's: for each word start `a` of the output, the longest run of the output
from `a` found verbatim in a contribution, cut back to the last word end (`evidence.is_word_end`);
kept when at least `min_span_bytes` long and not inside the span of an earlier word start.
Every word-bounded piece of the output that some contribution holds is inside one of these spans,
which is what makes an omission challenge exact (`checks.verify_omission`). Each span is then
credited to the lowest contribution id holding it, or, held by more than `max_occurrences`
contributions, recorded as boilerplate with the `max_occurrences + 1` lowest ids as witnesses.
"""

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.evidence import (
    WHITESPACE,
    Entry,
    EvidenceError,
    SpanParams,
    compute_evidence_root,
    compute_weights,
    group_spans,
)
from openledger.attribution.engine.index import SpanIndex


@dataclass(frozen=True, slots=True)
class Trace:
    """What `trace` derives for one output: everything a span record carries."""

    output_root: bytes
    output_length: int
    evidence_root: bytes
    entries: tuple[Entry, ...]
    weights: dict[int, int]

    def to_json(self) -> dict[str, object]:
        """The `openledger attribution trace --json` object."""
        return {
            "outputRoot": "0x" + self.output_root.hex(),
            "evidenceRoot": "0x" + self.evidence_root.hex(),
            "spans": [entry.to_json() for entry in self.entries],
            "weights": {str(cid): weight for cid, weight in self.weights.items()},
        }


@dataclass(frozen=True, slots=True)
class Overlap:
    """How much of a candidate the index holds already."""

    length: int
    covered_bytes: int
    """Candidate bytes inside some span the index holds."""
    by_contribution: dict[int, int]
    """Candidate bytes each contribution holding some of them holds."""

    @property
    def share(self) -> float:
        return self.covered_bytes / self.length if self.length else 0.0


def trace(index: SpanIndex, output: bytes, params: SpanParams) -> Trace:
    """The record an honest operator makes of `output` (UTF-8) against `index`."""
    try:
        output.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EvidenceError(f"the output is not UTF-8 (byte {error.start})") from None
    entries: list[Entry] = []
    for start, end in find_spans(index, output, params.min_span_bytes):
        holders = index.holders(output[start:end])
        ids = sorted(holders)[: params.max_occurrences + 1]
        if len(ids) > params.max_occurrences:
            entries.extend(Entry(start, end - start, cid, holders[cid]) for cid in ids)
        else:
            entries.append(Entry(start, end - start, ids[0], holders[ids[0]]))
    spans = group_spans(entries, len(output), params)
    return Trace(
        output_root=compute_content_root(output),
        output_length=len(output),
        evidence_root=compute_evidence_root(entries),
        entries=tuple(entries),
        weights=compute_weights(spans),
    )


def overlap(index: SpanIndex, candidate: bytes, params: SpanParams) -> Overlap:
    """The bytes of `candidate` (any bytes) already in the index, overall and per contribution."""
    covered: list[tuple[int, int]] = []
    held: dict[int, list[tuple[int, int]]] = {}
    offset = 0
    for piece in candidate.split(b"\xff"):  # the index's separator never matches
        for start, end in find_spans(index, piece, params.min_span_bytes):
            covered.append((offset + start, offset + end))
            for cid in index.holders(piece[start:end]):
                held.setdefault(cid, []).append((offset + start, offset + end))
        offset += len(piece) + 1
    by_contribution = {cid: _union_length(held[cid]) for cid in sorted(held)}
    return Overlap(len(candidate), _union_length(covered), by_contribution)


def find_spans(index: SpanIndex, text: bytes, min_bytes: int) -> Iterator[tuple[int, int]]:
    """The maximal word-bounded spans of `text` that the index holds, in order of start."""
    starts, ends = word_bounds(text)
    reach = 0
    for start in starts:
        if start + min_bytes > len(text):
            break
        limit = start + index.longest_match(text[start:])
        end_slot = bisect.bisect_right(ends, limit) - 1
        if end_slot < 0:
            continue
        end = ends[end_slot]
        if end - start >= min_bytes and end > reach:
            reach = end
            yield start, end


def word_bounds(text: bytes) -> tuple[list[int], list[int]]:
    """The word starts and word ends of `text`, ascending."""
    starts, ends = [], []
    previous_space = True
    for position, byte in enumerate(text):
        space = byte in WHITESPACE
        if previous_space and not space:
            starts.append(position)
        elif space and not previous_space:
            ends.append(position)
        previous_space = space
    if not previous_space:
        ends.append(len(text))
    return starts, ends


def _union_length(intervals: list[tuple[int, int]]) -> int:
    """Bytes in the union of intervals sorted by start with increasing ends (maximal spans)."""
    total, reach = 0, 0
    for start, end in intervals:
        total += max(0, end - max(start, reach))
        reach = max(reach, end)
    return total
