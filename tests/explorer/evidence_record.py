"""A span-evidence record built by hand for the explorer's test, with the roots computed by the
rules the attribution engine documents (branch `poa`: `attribution/content.py` and
`attribution/engine/evidence.py`), written out again here so that the page's own computation is
checked against an independent one. Until the engine is on main, no chain-side code produces
these records; the page is tested against this one."""

from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak

CHUNK = 256

OUTPUT = (
    "For a mild fever, rest and drink plenty of fluids every day until it passes. "
    "See a doctor if breathing is hard or the fever lasts more than three days. "
    "Always read the label before you take any medicine. " * 5
).strip()
"""Longer than one chunk, so that the content root's tree has more than one leaf."""


@dataclass(frozen=True, slots=True)
class Entry:
    """Output bytes `output_start ..` equal bytes `contribution_start ..` of a contribution."""

    output_start: int
    length: int
    contribution_id: int
    contribution_start: int

    def to_json(self) -> dict[str, int]:
        return {"outputStart": self.output_start, "length": self.length,
                "contributionId": self.contribution_id,
                "contributionStart": self.contribution_start}  # fmt: skip


def _at(needle: str) -> tuple[int, int]:
    start = OUTPUT.encode().index(needle.encode())
    return start, len(needle.encode())


def entries() -> list[Entry]:
    """Two credited spans that overlap (the second earns only its bytes past the first) and a
    boilerplate span held by both contributions, sorted by (outputStart, contributionId)."""
    first, second, common = (_at("rest and drink plenty of fluids"),
                             _at("plenty of fluids every day until it passes"),
                             _at("Always read the label before you take any medicine"))  # fmt: skip
    return [
        Entry(*first, 1, 10),
        Entry(*second, 2, 0),
        Entry(*common, 1, 200),
        Entry(*common, 2, 300),
    ]


def implied_weights() -> dict[int, int]:
    """New bytes of each credited span, walking the spans in order."""
    weights: dict[int, int] = {}
    covered = 0
    for entry in entries()[:2]:
        end = entry.output_start + entry.length
        new = end - max(covered, entry.output_start)
        weights[entry.contribution_id] = weights.get(entry.contribution_id, 0) + new
        covered = end
    return weights


def evidence_root() -> bytes:
    encoding = b"".join(
        value.to_bytes(32, "big")
        for e in entries()
        for value in (e.output_start, e.length, e.contribution_id, e.contribution_start)
    )
    return keccak(encoding)


def content_root(data: bytes) -> bytes:
    level = [keccak(b"\x00" + data[i : i + CHUNK]) for i in range(0, len(data), CHUNK)]
    empty = b"\x00" * 32
    while len(level) > 1:
        if len(level) % 2:
            level.append(empty)
        level = [keccak(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        empty = keccak(b"\x01" + empty + empty)
    tree = level[0] if level else b"\x00" * 32
    return keccak(b"\x02" + len(data).to_bytes(32, "big") + tree)


def record() -> dict[str, Any]:
    """The record as `openledger attribution trace --json` prints it."""
    return {
        "outputRoot": "0x" + content_root(OUTPUT.encode()).hex(),
        "evidenceRoot": "0x" + evidence_root().hex(),
        "spans": [entry.to_json() for entry in entries()],
    }
