"""The challenge checks (`attribution.engine.checks`): every dishonest record below is proven
wrong with chunks and paths only, and an honest record survives every challenge we can build."""

import random
from dataclasses import replace
from pathlib import Path

import pytest

from openledger.attribution.content import build_range_proof, compute_content_root
from openledger.attribution.engine.checks import (
    ChallengeRejected,
    verify_boundaries,
    verify_earlier,
    verify_mismatch,
    verify_omission,
)
from openledger.attribution.engine.evidence import Entry, SpanParams
from openledger.attribution.engine.index import Content, SpanIndex
from openledger.attribution.engine.trace import trace, word_bounds

PARAMS = SpanParams(min_span_bytes=20, max_occurrences=2, omission_bytes=20)
RNG = random.Random(11)
VOCAB = [f"t{n}q" for n in range(3000)]


def prose(count: int) -> str:
    return " ".join(RNG.choice(VOCAB) for _ in range(count))


ORIGINAL = prose(40)
PHRASE = prose(6)
TEXTS = {
    1: f"{prose(20)} {PHRASE} {prose(10)}",
    2: f"{prose(15)} {PHRASE}",
    3: ORIGINAL,
    4: f"{prose(30)} {PHRASE} {prose(5)}",
    6: prose(50),
    9: f"{prose(5)} {ORIGINAL}",  # a later copy of contribution 3
}
DATA = {cid: text.encode() for cid, text in TEXTS.items()}
COPY3 = " ".join(ORIGINAL.split()[8:20]).encode()
COPY6 = " ".join(TEXTS[6].split()[3:15]).encode()
OUTPUT = b" ".join(
    [
        prose(6).encode(),
        COPY3,
        prose(6).encode(),
        PHRASE.encode(),
        prose(4).encode(),
        COPY6,
        prose(3).encode(),
    ]
)
ROOT, LENGTH = compute_content_root(OUTPUT), len(OUTPUT)


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> list[Entry]:
    index = SpanIndex(Path(tmp_path_factory.mktemp("checks")) / "index")
    index.sync([Content(cid, data) for cid, data in DATA.items()])
    result = trace(index, OUTPUT, PARAMS)
    assert result.weights == {3: len(COPY3), 6: len(COPY6)}
    assert len(result.entries) == 2 + PARAMS.max_occurrences + 1  # two credited, one boilerplate
    return list(result.entries)


def mismatch(entry: Entry, at: int) -> None:
    data = DATA[entry.contribution_id]
    inside = entry.contribution_start + entry.length <= len(data)
    verify_mismatch(
        ROOT, LENGTH, entry, compute_content_root(data), len(data), at,
        build_range_proof(OUTPUT, entry.output_start + at, 1),
        build_range_proof(data, entry.contribution_start + at, 1) if inside else None,
    )  # fmt: skip


def boundaries(entry: Entry) -> None:
    start, end = entry.output_start, entry.output_start + entry.length
    verify_boundaries(
        ROOT, LENGTH, entry,
        build_range_proof(OUTPUT, max(start - 1, 0), min(start, 1) + 1),
        build_range_proof(OUTPUT, end - 1, 1 + (end < LENGTH)),
    )  # fmt: skip


def earlier(entries: list[Entry], position: int, earlier_id: int, start: int) -> None:
    data, entry = DATA[earlier_id], entries[position]
    verify_earlier(
        ROOT, LENGTH, entries, position, earlier_id, compute_content_root(data), len(data), start,
        build_range_proof(OUTPUT, entry.output_start, entry.length),
        build_range_proof(data, start, entry.length),
    )  # fmt: skip


def omission(entries: list[Entry], start: int, length: int, holder: int, at: int) -> None:
    data = DATA[holder]
    lo, hi = max(start - 1, 0), min(start + length + 1, LENGTH)
    verify_omission(
        ROOT, LENGTH, entries, PARAMS, start, length, compute_content_root(data), len(data), at,
        build_range_proof(OUTPUT, lo, hi - lo), build_range_proof(data, at, length),
    )  # fmt: skip


def occurrences(piece: bytes, data: bytes) -> list[int]:
    found, at = [], data.find(piece)
    while at >= 0:
        found.append(at)
        at = data.find(piece, at + 1)
    return found


def test_an_honest_record_survives_every_challenge(record: list[Entry]) -> None:
    tried = 0
    for position, entry in enumerate(record):
        for at in range(entry.length):
            with pytest.raises(ChallengeRejected):
                mismatch(entry, at)
            tried += 1
        with pytest.raises(ChallengeRejected):
            boundaries(entry)
        for cid in (c for c in DATA if c < entry.contribution_id):
            for start in range(len(DATA[cid]) - entry.length + 1):
                with pytest.raises(ChallengeRejected):
                    earlier(record, position, cid, start)
                tried += 1
    starts, ends = word_bounds(OUTPUT)
    for a in starts:
        for b in (b for b in ends if b - a >= PARAMS.omission_bytes):
            for cid, data in DATA.items():
                for at in occurrences(OUTPUT[a:b], data):
                    with pytest.raises(ChallengeRejected):
                        omission(record, a, b - a, cid, at)
                    tried += 1
    assert tried > 1000


def test_a_forged_span_is_proven(record: list[Entry]) -> None:
    forged = replace(record[0], contribution_start=record[0].contribution_start + 4)
    mismatch(forged, 0)  # returns: the fault is proven
    outside = replace(record[0], contribution_start=len(DATA[3]))
    mismatch(outside, 0)
    with pytest.raises(ChallengeRejected, match="not inside the span"):
        mismatch(forged, forged.length)


def test_a_span_cut_inside_a_word_is_proven(record: list[Entry]) -> None:
    entry = record[0]
    cut = Entry(entry.output_start + 1, entry.length - 1, 3, entry.contribution_start + 1)
    with pytest.raises(ChallengeRejected):
        mismatch(cut, 0)  # the bytes do match
    boundaries(cut)


def test_crediting_the_later_copy_is_proven(record: list[Entry]) -> None:
    wrong = replace(
        record[0],
        contribution_id=9,
        contribution_start=record[0].contribution_start + len(TEXTS[9]) - len(ORIGINAL),
    )
    dishonest = [wrong, *record[1:]]
    earlier(dishonest, 0, 3, record[0].contribution_start)
    with pytest.raises(ChallengeRejected, match="does not hold"):
        earlier(dishonest, 0, 3, record[0].contribution_start + 1)
    with pytest.raises(ChallengeRejected, match="not earlier"):
        earlier(record, 0, 9, wrong.contribution_start)
    with pytest.raises(ChallengeRejected, match="boilerplate"):
        earlier(record, 2, 1, TEXTS[1].index(PHRASE))


def test_an_omitted_or_truncated_span_is_proven(record: list[Entry]) -> None:
    copy6 = record[-1]
    assert copy6.contribution_id == 6
    start, held_at = copy6.output_start, copy6.contribution_start
    omission(record[:-1], start, copy6.length, 6, held_at)  # dropped
    words = COPY6.split(b" ")
    shorter = len(b" ".join(words[:-2]))
    truncated = [*record[:-1], replace(copy6, length=shorter)]
    omission(truncated, start, copy6.length, 6, held_at)
    with pytest.raises(ChallengeRejected, match="covers"):
        omission(record, start, copy6.length, 6, held_at)
    with pytest.raises(ChallengeRejected, match="fewer than"):
        omission(record[:-1], start, PARAMS.omission_bytes - 1, 6, held_at)
    with pytest.raises(ChallengeRejected, match="word start"):
        omission(record[:-1], start + 1, copy6.length - 1, 6, held_at + 1)


def test_a_challenge_with_a_wrong_path_is_rejected(record: list[Entry]) -> None:
    forged = replace(record[0], contribution_start=record[0].contribution_start + 4)
    data = DATA[3]
    proof = build_range_proof(OUTPUT, forged.output_start, 1)
    bad = replace(proof, chunks=(b"X" * len(proof.chunks[0]),))
    with pytest.raises(ChallengeRejected, match="bad range proof"):
        verify_mismatch(
            ROOT, LENGTH, forged, compute_content_root(data), len(data), 0, bad,
            build_range_proof(data, forged.contribution_start, 1),
        )  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_honest_records_of_a_repetitive_corpus_survive_every_challenge(
    tmp_path: Path, seed: int
) -> None:
    # four words only: spans overlap everywhere and many are boilerplate
    rng = random.Random(seed)
    words = [f"k{n}" for n in range(4)]
    common = ["q1", "q2", "q3", "q4"]  # held by every contribution: boilerplate

    def text(count: int) -> bytes:
        chosen = rng.choices(words, k=count)
        at = rng.randrange(count)
        return " ".join([*chosen[:at], *common, *chosen[at:]]).encode()

    data = {cid: text(40) for cid in (1, 2, 4, 5, 7, 9)}
    output = text(50)
    params = SpanParams(min_span_bytes=8, max_occurrences=2, omission_bytes=8)
    index = SpanIndex(tmp_path / "index")
    index.sync([Content(cid, blob) for cid, blob in data.items()])
    entries = list(trace(index, output, params).entries)
    root, length = compute_content_root(output), len(output)
    roots = {cid: compute_content_root(blob) for cid, blob in data.items()}
    credited = [i for i, e in enumerate(entries)
                if sum(x.output_start == e.output_start for x in entries) == 1]  # fmt: skip
    assert credited and len(credited) < len(entries)  # both kinds of span
    for position in credited:
        entry = entries[position]
        piece = output[entry.output_start : entry.output_start + entry.length]
        for cid in (c for c in data if c < entry.contribution_id):
            for at in occurrences(piece, data[cid]):
                with pytest.raises(ChallengeRejected):
                    verify_earlier(root, length, entries, position, cid, roots[cid],
                                   len(data[cid]), at,
                                   build_range_proof(output, entry.output_start, entry.length),
                                   build_range_proof(data[cid], at, entry.length))  # fmt: skip
    starts, ends = word_bounds(output)
    tried = 0
    for a in starts:
        for b in (b for b in ends if b - a >= params.omission_bytes):
            lo, hi = max(a - 1, 0), min(b + 1, length)
            for cid, blob in data.items():
                for at in occurrences(output[a:b], blob):
                    tried += 1
                    with pytest.raises(ChallengeRejected):
                        verify_omission(root, length, entries, params, a, b - a, roots[cid],
                                        len(blob), at, build_range_proof(output, lo, hi - lo),
                                        build_range_proof(blob, at, b - a))  # fmt: skip
    assert tried > 20
