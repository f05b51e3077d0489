"""The span engine (`attribution.engine`): the index on disk, `trace`, `overlap`, the evidence
rules, and the content directory. Indexes are real directories under tmp_path."""

import random
from pathlib import Path

import pytest

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.evidence import (
    Entry,
    EvidenceError,
    SpanParams,
    compute_evidence_root,
    compute_weights,
    decode_evidence,
    encode_evidence,
    group_spans,
)
from openledger.attribution.engine.index import Content, IndexStoreError, SpanIndex
from openledger.attribution.engine.store import ContentDirectory, ContentError, read_contributions
from openledger.attribution.engine.trace import find_spans, overlap, trace
from openledger.node.cli import main

PARAMS = SpanParams(min_span_bytes=20, max_occurrences=3, omission_bytes=30)
RNG = random.Random(7)
VOCAB = [f"w{n}x" for n in range(5000)]


def prose(count: int, rng: random.Random = RNG) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(count))


def build(tmp_path: Path, texts: dict[int, str], name: str = "index") -> SpanIndex:
    index = SpanIndex(tmp_path / name)
    index.sync([Content(cid, text.encode()) for cid, text in texts.items()])
    return index


def test_trace_credits_exactly_the_copied_contributions(tmp_path: Path) -> None:
    texts = {cid: prose(80) for cid in range(1, 11)}
    copy_a = " ".join(texts[3].split()[10:20])
    copy_b = " ".join(texts[8].split()[40:52])
    output = f"{prose(30)} {copy_a} {prose(25)} {copy_b} {prose(10)}".encode()
    result = trace(build(tmp_path, texts), output, PARAMS)
    assert set(result.weights) == {3, 8}
    spans = [
        (e.contribution_id, output[e.output_start : e.output_start + e.length])
        for e in result.entries
    ]
    assert spans == [(3, copy_a.encode()), (8, copy_b.encode())]
    assert result.weights == {3: len(copy_a), 8: len(copy_b)}
    assert result.output_root == compute_content_root(output)
    assert result.evidence_root == compute_evidence_root(result.entries)
    entry = result.entries[0]
    held = texts[3].encode()[entry.contribution_start : entry.contribution_start + entry.length]
    assert held == copy_a.encode()


def test_copying_an_accepted_contribution_earns_the_copier_nothing(tmp_path: Path) -> None:
    original = prose(60)
    texts = {4: original, 9: prose(20) + " " + original, 2: prose(40)}
    output = f"{prose(10)} {' '.join(original.split()[5:30])} {prose(10)}".encode()
    result = trace(build(tmp_path, texts), output, PARAMS)
    assert result.weights == {4: len(" ".join(original.split()[5:30]))}


def test_boilerplate_earns_nothing_and_lists_its_witnesses(tmp_path: Path) -> None:
    phrase = prose(12)
    texts = {cid: f"{prose(30)} {phrase} {prose(30)}" for cid in range(1, 7)}
    output = f"{prose(15)} {phrase} {prose(15)}".encode()
    result = trace(build(tmp_path, texts), output, PARAMS)
    assert result.weights == {}
    assert [e.contribution_id for e in result.entries] == [1, 2, 3, 4]  # max_occurrences + 1
    assert {e.length for e in result.entries} == {len(phrase)}


def test_short_and_mid_word_copies_do_not_count(tmp_path: Path) -> None:
    texts = {1: "alpha beta gamma delta epsilon zeta eta theta iota kappa"}
    short = b"new words here beta gamma more new words"  # 10 bytes copied, minimum 20
    mid_word = b"new xbeta gamma delta epsilon zetay here"  # only inside words
    index = build(tmp_path, texts)
    assert trace(index, short, PARAMS).entries == ()
    spans = list(find_spans(index, mid_word, PARAMS.min_span_bytes))
    assert [mid_word[a:b] for a, b in spans] == []  # "gamma delta epsilon" is 19 bytes


def brute_force_spans(texts: list[bytes], output: bytes, min_bytes: int) -> list[tuple[int, int]]:
    """Maximal word-bounded pieces of `output` some text holds, by trying every piece."""
    words = [(i, i + len(w)) for i, w in _words(output)]
    found = []
    for a, _ in words:
        best = None
        for _, b in words:
            if b - a >= min_bytes and any(output[a:b] in t for t in texts):
                best = b
        if best is not None:
            found.append((a, best))
    return [(a, b) for a, b in found if not any(x < a and y >= b for x, y in found)]


def _words(text: bytes) -> list[tuple[int, bytes]]:
    result, position = [], 0
    for word in text.split(b" "):
        if word:
            result.append((position, word))
        position += len(word) + 1
    return result


@pytest.mark.parametrize("seed", range(6))
def test_spans_are_the_maximal_verbatim_pieces(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    small = [f"v{n}" for n in range(6)]  # a tiny vocabulary: matches everywhere, of every size
    texts = {cid: " ".join(rng.choice(small) for _ in range(60)) for cid in range(1, 6)}
    output = " ".join(rng.choice(small) for _ in range(80)).encode()
    index = build(tmp_path, texts)
    expected = brute_force_spans([t.encode() for t in texts.values()], output, 12)
    assert expected
    assert list(find_spans(index, output, 12)) == expected


def test_a_fresh_index_and_an_extended_index_give_the_same_record(tmp_path: Path) -> None:
    texts = {cid: prose(100) for cid in range(1, 21)}
    output = " ".join(
        " ".join(texts[c].split()[20:32]) + " " + prose(8) for c in (2, 15, 19)
    ).encode()
    whole = build(tmp_path, texts, "whole")
    grown = build(tmp_path, {c: t for c, t in texts.items() if c <= 10}, "grown")
    first_segment = grown.segments[0].path
    inode = (first_segment / "sa.npy").stat().st_ino
    added = grown.sync([Content(c, t.encode()) for c, t in texts.items()])
    assert added == sum(len(t) for c, t in texts.items() if c > 10)
    assert (first_segment / "sa.npy").stat().st_ino == inode  # the first segment was kept
    assert len(grown.segments) == 2
    reopened = SpanIndex(tmp_path / "grown")
    results = {trace(i, output, PARAMS).to_json().__repr__() for i in (whole, grown, reopened)}
    assert len(results) == 1
    assert set(trace(whole, output, PARAMS).weights) == {2, 15, 19}


def test_dropping_a_flagged_contribution_rebuilds_only_its_segment(tmp_path: Path) -> None:
    texts = {cid: prose(50) for cid in range(1, 7)}
    index = build(tmp_path, {c: t for c, t in texts.items() if c <= 3})
    index.sync([Content(c, t.encode()) for c, t in texts.items()])
    kept = index.segments[1].path
    index.sync([Content(c, t.encode()) for c, t in texts.items() if c != 2])
    assert index.contribution_ids == {1, 3, 4, 5, 6}
    assert kept in [s.path for s in index.segments]
    output = f"{prose(5)} {' '.join(texts[2].split()[:20])} {prose(5)}".encode()
    assert trace(index, output, PARAMS).weights == {}


def test_overlap_reports_the_share_held_and_by_whom(tmp_path: Path) -> None:
    texts = {1: prose(60), 2: prose(60)}
    head, tail = " ".join(texts[1].split()[:30]), " ".join(texts[2].split()[30:])
    candidate = f"{head} {prose(30)} {tail}".encode()
    result = overlap(build(tmp_path, texts), candidate, PARAMS)
    assert result.by_contribution == {1: len(head), 2: len(tail)}
    assert result.covered_bytes == len(head) + len(tail)
    assert 0.5 < result.share < 0.8


def test_evidence_encoding_round_trips_and_scores_overlaps_once() -> None:
    entries = [Entry(0, 25, 5, 3), Entry(10, 30, 2, 0), Entry(50, 20, 7, 1)]
    assert decode_evidence(encode_evidence(entries)) == entries
    assert len(encode_evidence(entries)) == 3 * 128
    spans = group_spans(entries, 80, PARAMS)
    assert compute_weights(spans) == {2: 15, 5: 25, 7: 20}  # bytes 10..24 counted for 5 only


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ([Entry(10, 30, 2, 0), Entry(0, 25, 5, 3)], "not after"),
        ([Entry(0, 10, 2, 0)], "below the minimum"),
        ([Entry(70, 20, 2, 0)], "outside the output"),
        ([Entry(0, 40, 2, 0), Entry(5, 20, 3, 0)], "inside the span"),
        ([Entry(0, 40, 2, 0), Entry(0, 40, 3, 0)], "entries: 1"),
        ([Entry(0, 40, 2, 0), Entry(0, 41, 3, 0)], "two spans"),
        ([Entry(0, 40, 0, 0)], "contribution 0"),
        ([Entry(0, 40, 2, 0), Entry(0, 40, 2, 5)], "twice"),
    ],
)
def test_malformed_evidence_is_refused(entries: list[Entry], problem: str) -> None:
    with pytest.raises(EvidenceError, match=problem):
        group_spans(entries, 80, PARAMS)


def test_trace_refuses_an_output_that_is_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="not UTF-8"):
        trace(build(tmp_path, {1: prose(10)}), b"abc \xff def", PARAMS)


def test_content_directory_checks_every_blob(tmp_path: Path) -> None:
    store = ContentDirectory(tmp_path / "content")
    root = store.put(b"some contribution")
    assert (tmp_path / "content" / root.hex()).read_bytes() == b"some contribution"
    assert store.get(root, "contribution 7") == b"some contribution"
    (tmp_path / "content" / root.hex()).write_bytes(b"some contributioN")
    with pytest.raises(ContentError, match=r"contribution 7: the blob .* does not match"):
        store.get(root, "contribution 7")
    with pytest.raises(ContentError, match=r"contribution 8: content 0x00.* is not in"):
        store.get(bytes(32), "contribution 8")
    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(ContentError, match="cannot store content in"):
        ContentDirectory(tmp_path / "a-file").put(b"data")


def test_content_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blob = tmp_path / "blob.txt"
    blob.write_bytes(b"x" * 3000)
    assert main(["content", "root", str(blob)]) == 0
    root = capsys.readouterr().out.strip()
    assert root == "0x" + compute_content_root(b"x" * 3000).hex()
    assert main(["content", "put", str(tmp_path / "dir"), str(blob)]) == 0
    assert capsys.readouterr().out.strip() == root
    assert (tmp_path / "dir" / root[2:]).read_bytes() == b"x" * 3000
    assert main(["content", "root", str(tmp_path / "missing")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_an_interrupted_build_is_redone_and_a_broken_index_named(tmp_path: Path) -> None:
    texts = {cid: prose(30) for cid in range(1, 5)}
    index = build(tmp_path, {1: texts[1]})
    (tmp_path / "index" / "seg-000002").mkdir()  # a build that stopped before the manifest
    (tmp_path / "index" / "seg-000002" / "text.bin").write_bytes(b"half")
    index.sync([Content(c, t.encode()) for c, t in texts.items()])
    assert SpanIndex(tmp_path / "index").contribution_ids == {1, 2, 3, 4}
    (tmp_path / "index" / "seg-000002" / "meta.npy").unlink()
    with pytest.raises(IndexStoreError, match="is unreadable"):
        SpanIndex(tmp_path / "index")


def test_an_index_is_built_from_checked_blobs_only(tmp_path: Path) -> None:
    store = ContentDirectory(tmp_path / "content")
    roots = {cid: store.put(prose(40).encode()) for cid in (1, 2, 3)}
    contents = read_contributions(store, sorted(roots.items()))
    assert [c.contribution_id for c in contents] == [1, 2, 3]
    (tmp_path / "content" / roots[2].hex()).write_bytes(b"tampered")
    with pytest.raises(ContentError, match="contribution 2: the blob"):
        read_contributions(store, sorted(roots.items()))
    (tmp_path / "content" / roots[3].hex()).unlink()
    with pytest.raises(ContentError, match="contribution 3: content"):
        read_contributions(store, [(3, roots[3])])
