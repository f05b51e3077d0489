"""The suffix-array index of the contributions a model cites, kept on disk in segments.

An index directory holds `manifest.json` and one folder per segment. A segment is the
contributions it was built from, in ascending contribution id, each followed by the byte `0xFF`
(never part of UTF-8 text, so no match of an output crosses from one contribution into the next),
and the suffix array of those bytes (`pydivsufsort`, libdivsufsort's bindings):

    seg-NNNNNN/text.bin   the concatenated bytes
    seg-NNNNNN/sa.npy     the suffix array (int32, or int64 past 2 GiB)
    seg-NNNNNN/meta.npy   per contribution: id, start in text.bin, length

`sync` keeps every segment whose contributions are all still wanted and builds one new segment of
the wanted contributions no kept segment holds; so publishing a version adds one segment and
rebuilds nothing, and only flagging a contribution rebuilds (the segment that held it). Queries
look in every segment. The index writes no chain state and trusts its caller for the bytes
(`ContentDirectory.get` checks them against their roots).
"""

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydivsufsort

from openledger.genesis.errors import OpenLedgerError

SEPARATOR = b"\xff"
MANIFEST = "manifest.json"
FORMAT = 1
FIRST_WINDOW = 256
"""Bytes of the query first compared when looking for the longest match (doubled when reached)."""


class IndexStoreError(OpenLedgerError):
    """An index directory is unreadable or inconsistent."""


@dataclass(frozen=True, slots=True)
class Content:
    """One contribution's id and its bytes (already checked against its content root)."""

    contribution_id: int
    data: bytes


class Segment:
    """One suffix-array segment, loaded in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = (path / "text.bin").read_bytes()
        self.suffixes = np.load(path / "sa.npy")
        meta = np.load(path / "meta.npy")
        self.ids: list[int] = [int(v) for v in meta[0]]
        self.starts = meta[1]
        self.lengths = meta[2]

    @classmethod
    def build(cls, path: Path, contents: Sequence[Content]) -> "Segment":
        ordered = sorted(contents, key=lambda c: c.contribution_id)
        starts, position = [], 0
        for content in ordered:
            starts.append(position)
            position += len(content.data) + 1
        text = b"".join(content.data + SEPARATOR for content in ordered)
        path.mkdir(parents=True)
        (path / "text.bin").write_bytes(text)
        np.save(path / "sa.npy", pydivsufsort.divsufsort(text))
        meta = np.array(
            [[c.contribution_id for c in ordered], starts, [len(c.data) for c in ordered]],
            dtype=np.int64,
        )
        np.save(path / "meta.npy", meta)
        return cls(path)

    def longest_match(self, query: bytes) -> int:
        """Length of the longest prefix of `query` found anywhere in the segment."""
        window = FIRST_WINDOW
        while True:
            probe = query[:window]
            best = self._longest_match(probe)
            if best < len(probe) or len(probe) == len(query):
                return best
            window *= 2

    def holders(self, pattern: bytes) -> dict[int, int]:
        """Each contribution holding `pattern`, with the lowest offset it holds it at."""
        lo = self._lower_bound(pattern)
        hi = self._upper_bound(pattern, lo)
        if lo == hi:
            return {}
        positions = np.sort(self.suffixes[lo:hi])
        slots = np.searchsorted(self.starts, positions, side="right") - 1
        found: dict[int, int] = {}
        for position, slot in zip(positions.tolist(), slots.tolist(), strict=True):
            offset = position - int(self.starts[slot])
            if offset + len(pattern) <= int(self.lengths[slot]):
                found.setdefault(self.ids[slot], offset)
        return found

    def _longest_match(self, probe: bytes) -> int:
        text, suffixes, size = self.text, self.suffixes, len(probe)
        index = self._lower_bound(probe)
        best = 0
        for neighbour in (index - 1, index):
            if 0 <= neighbour < len(suffixes):
                start = int(suffixes[neighbour])
                best = max(best, _common_prefix(probe, text[start : start + size]))
        return best

    def _lower_bound(self, pattern: bytes) -> int:
        """The first suffix not below `pattern`."""
        return self._bound(pattern, 0, upper=False)

    def _upper_bound(self, pattern: bytes, lo: int) -> int:
        """The first suffix (from `lo`) above every suffix that starts with `pattern`."""
        return self._bound(pattern, lo, upper=True)

    def _bound(self, pattern: bytes, lo: int, upper: bool) -> int:
        text, suffixes, size = self.text, self.suffixes, len(pattern)
        hi = len(suffixes)
        while lo < hi:
            mid = (lo + hi) >> 1
            start = int(suffixes[mid])
            prefix = text[start : start + size]
            if prefix < pattern or (upper and prefix == pattern):
                lo = mid + 1
            else:
                hi = mid
        return lo


class SpanIndex:
    """An index directory: its segments, queried together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.segments: list[Segment] = []
        manifest = path / MANIFEST
        if manifest.exists():
            try:
                names = json.loads(manifest.read_text())["segments"]
                self.segments = [Segment(path / name) for name in names]
            except (OSError, ValueError, KeyError) as error:
                raise IndexStoreError(f"index {path} is unreadable: {error}") from None

    @property
    def contribution_ids(self) -> set[int]:
        return {cid for segment in self.segments for cid in segment.ids}

    def sync(self, contents: Sequence[Content]) -> int:
        """Make the index hold exactly `contents`; returns the bytes newly indexed."""
        wanted = {content.contribution_id for content in contents}
        kept = [s for s in self.segments if set(s.ids) <= wanted]
        dropped = [s for s in self.segments if s not in kept]
        held = {cid for segment in kept for cid in segment.ids}
        new = [content for content in contents if content.contribution_id not in held]
        if new:
            number = max((int(s.path.name[4:]) for s in self.segments), default=0) + 1
            path = self.path / f"seg-{number:06d}"
            if path.exists():  # left by an interrupted build: the manifest never named it
                shutil.rmtree(path)
            kept.append(Segment.build(path, new))
        self.path.mkdir(parents=True, exist_ok=True)
        names = [segment.path.name for segment in kept]
        temporary = self.path / (MANIFEST + ".tmp")
        temporary.write_text(json.dumps({"format": FORMAT, "segments": names}))
        temporary.replace(self.path / MANIFEST)  # the manifest switches first, then old files go
        self.segments = kept
        for segment in dropped:
            shutil.rmtree(segment.path)
        return sum(len(content.data) for content in new)

    def longest_match(self, query: bytes) -> int:
        return max((segment.longest_match(query) for segment in self.segments), default=0)

    def holders(self, pattern: bytes) -> dict[int, int]:
        found: dict[int, int] = {}
        for segment in self.segments:
            found.update(segment.holders(pattern))
        return found

    def size_bytes(self) -> int:
        """Bytes the index keeps on disk."""
        return sum(file.stat().st_size for file in self.path.rglob("*") if file.is_file())


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix of `a` and `b` (binary search on slice equality)."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:  # a[:lo] == b[:lo] and a[:hi] != b[:hi]
        mid = (lo + hi + 1) >> 1
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo
