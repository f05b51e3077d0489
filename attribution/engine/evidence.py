"""Span evidence: its format, canonical encoding, well-formedness and the weights it implies.

A record's evidence is a list of entries `(outputStart, length, contributionId, contributionStart)`:
bytes `outputStart .. outputStart+length-1` of the output equal bytes `contributionStart ..` of the
contribution. Entries with the same `(outputStart, length)` form one **span**:

- a **credited** span has one entry: the earliest contribution (lowest contribution id) that holds
  the span's bytes;
- a **boilerplate** span has exactly `maxOccurrences + 1` entries, the lowest ids holding it (each
  a witness that the span is too common to earn); it earns nothing.

Entries are sorted by `(outputStart, contributionId)`, strictly. Spans start at word starts and end
at word ends of the output (`is_word_start`, `is_word_end`), are at least `minSpanBytes` long, and no
span lies inside another (they are the maximal verbatim spans). Everything here is a pure function
of the evidence and the parameters, so the precompile can run it as is.

**Scoring**: walking the spans in order, a span's new bytes are those past the end of every earlier
span; a credited span's contribution earns its new bytes as weight, a boilerplate span's new bytes
earn nothing. Every output byte is thus counted at most once, and each weight is positive.

**Encoding**: an entry is four 32-byte big-endian words (`abi.encodePacked` of four `uint256`);
the evidence is the entries in order; `evidenceRoot = keccak256(encoding)`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from eth_hash.auto import keccak

from openledger.genesis.errors import OpenLedgerError

WHITESPACE = frozenset(b" \t\n\r\x0b\x0c")
"""Bytes that separate words; every other byte belongs to a word."""
ENTRY_BYTES = 128
"""Bytes of one encoded entry."""
WORD = 32


class EvidenceError(OpenLedgerError):
    """Evidence is malformed (the message names the entry and the rule it breaks)."""


@dataclass(frozen=True, slots=True)
class SpanParams:
    """The parameters of the verbatim-span method (pinned per model on chain)."""

    min_span_bytes: int = 40
    """Shortest span that counts, in bytes (about six English words)."""
    max_occurrences: int = 8
    """A span held by more contributions than this is boilerplate and earns nothing."""
    omission_bytes: int = 80
    """An output span at least this long that no span of a record covers, held by a cited
    contribution, proves the record incomplete (at least `min_span_bytes`)."""

    def __post_init__(self) -> None:
        if self.min_span_bytes < 1 or self.max_occurrences < 1:
            raise EvidenceError("min_span_bytes and max_occurrences must be positive")
        if self.omission_bytes < self.min_span_bytes:
            raise EvidenceError("omission_bytes must be at least min_span_bytes")


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """One evidence entry: output bytes that equal bytes of one contribution."""

    output_start: int
    length: int
    contribution_id: int
    contribution_start: int

    def to_json(self) -> dict[str, int]:
        return {
            "outputStart": self.output_start,
            "length": self.length,
            "contributionId": self.contribution_id,
            "contributionStart": self.contribution_start,
        }


@dataclass(frozen=True, slots=True)
class Span:
    """One span of the evidence: its output range and its entries (1, or maxOccurrences + 1)."""

    output_start: int
    length: int
    entries: tuple[Entry, ...]

    @property
    def end(self) -> int:
        return self.output_start + self.length

    @property
    def is_credited(self) -> bool:
        return len(self.entries) == 1


def is_word_start(before: int | None, at: int) -> bool:
    """Whether a span may start at a byte `at` preceded by `before` (None: the output's start)."""
    return at not in WHITESPACE and (before is None or before in WHITESPACE)


def is_word_end(last: int, after: int | None) -> bool:
    """Whether a span may end after byte `last` followed by `after` (None: the output's end)."""
    return last not in WHITESPACE and (after is None or after in WHITESPACE)


def encode_evidence(entries: Sequence[Entry]) -> bytes:
    """The canonical encoding: four 32-byte words per entry, in order."""
    return b"".join(
        b"".join(
            value.to_bytes(WORD, "big")
            for value in (e.output_start, e.length, e.contribution_id, e.contribution_start)
        )
        for e in entries
    )


def decode_evidence(data: bytes) -> list[Entry]:
    """The entries of a canonical encoding."""
    if len(data) % ENTRY_BYTES:
        raise EvidenceError(f"evidence of {len(data)} bytes is not a whole number of entries")
    words = [int.from_bytes(data[i : i + WORD], "big") for i in range(0, len(data), WORD)]
    return [Entry(*words[i : i + 4]) for i in range(0, len(words), 4)]


def compute_evidence_root(entries: Sequence[Entry]) -> bytes:
    """`keccak256` of the canonical encoding."""
    return keccak(encode_evidence(entries))


def group_spans(entries: Sequence[Entry], output_length: int, params: SpanParams) -> list[Span]:
    """The spans of well-formed evidence; raises `EvidenceError` naming the first broken rule.

    Checks everything that needs no content: order, ranges, lengths, group sizes, maximality.
    Word boundaries and byte equality need the output's and contributions' chunks (challenges).
    """
    spans: list[Span] = []
    for index, entry in enumerate(entries):
        if index and entry <= entries[index - 1]:
            raise EvidenceError(f"entry {index} is not after entry {index - 1}")
        if entry.length < params.min_span_bytes:
            raise EvidenceError(
                f"entry {index}: length {entry.length} is below the minimum {params.min_span_bytes}"
            )
        if entry.output_start + entry.length > output_length:
            raise EvidenceError(
                f"entry {index}: bytes {entry.output_start}..{entry.output_start + entry.length - 1}"
                f" are outside the output of {output_length} bytes"
            )
        if entry.contribution_id == 0:
            raise EvidenceError(f"entry {index}: contribution 0 does not exist")
        last = spans[-1] if spans else None
        if last and last.output_start == entry.output_start:
            if last.length != entry.length:
                raise EvidenceError(f"entry {index}: two spans start at {entry.output_start}")
            if entry.contribution_id == last.entries[-1].contribution_id:
                raise EvidenceError(f"entry {index}: a span names contribution "
                                    f"{entry.contribution_id} twice")  # fmt: skip
            spans[-1] = Span(last.output_start, last.length, (*last.entries, entry))
        else:
            if last and entry.output_start + entry.length <= last.end:
                raise EvidenceError(f"entry {index}: its span lies inside the span before it")
            spans.append(Span(entry.output_start, entry.length, (entry,)))
    for span in spans:
        if len(span.entries) not in (1, params.max_occurrences + 1):
            raise EvidenceError(
                f"the span at {span.output_start} has {len(span.entries)} entries: 1 (credited) or "
                f"{params.max_occurrences + 1} (boilerplate) are allowed"
            )
    return spans


def compute_weights(spans: Sequence[Span]) -> dict[int, int]:
    """The weight of each credited contribution (module docstring: new bytes of its spans)."""
    weights: dict[int, int] = {}
    covered = 0
    for span in spans:
        new = span.end - max(span.output_start, covered)
        covered = max(covered, span.end)
        if span.is_credited and new > 0:
            contribution = span.entries[0].contribution_id
            weights[contribution] = weights.get(contribution, 0) + new
    return dict(sorted(weights.items()))
