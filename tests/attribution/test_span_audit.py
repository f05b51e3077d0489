"""Auditing records (`attribution.engine.audit`): an honest record is consistent; each dishonest
one yields a challenge that the pure check (as the chain will run it) accepts."""

import random
from dataclasses import replace
from pathlib import Path

import pytest

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.audit import (
    Boundaries,
    Earlier,
    Mismatch,
    Omission,
    audit,
    check_challenge,
    compute_roots,
)
from openledger.attribution.engine.checks import ChallengeRejected
from openledger.attribution.engine.evidence import Entry, SpanParams
from openledger.attribution.engine.index import Content, SpanIndex
from openledger.attribution.engine.trace import trace

PARAMS = SpanParams(min_span_bytes=20, max_occurrences=2, omission_bytes=30)
RNG = random.Random(5)
VOCAB = [f"a{n}z" for n in range(4000)]


def prose(count: int) -> str:
    return " ".join(RNG.choice(VOCAB) for _ in range(count))


ORIGINAL = prose(50)
CONTENTS = {
    cid: text.encode()
    for cid, text in {2: ORIGINAL, 3: prose(60), 5: prose(40), 8: f"{prose(4)} {ORIGINAL}"}.items()
}
COPY2 = " ".join(ORIGINAL.split()[5:17]).encode()
COPY3 = " ".join(CONTENTS[3].decode().split()[20:34]).encode()
OUTPUT = b" ".join([prose(8).encode(), COPY2, prose(5).encode(), COPY3, prose(6).encode()])
ROOTS = compute_roots(CONTENTS)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SpanIndex:
    index = SpanIndex(Path(tmp_path_factory.mktemp("audit")) / "index")
    index.sync([Content(cid, data) for cid, data in CONTENTS.items()])
    return index


def challenged(index: SpanIndex, entries: list[Entry]) -> object:
    verdict = audit(index, OUTPUT, entries, CONTENTS, PARAMS)
    assert not verdict.consistent and verdict.challenge is not None, verdict.finding
    check_challenge(
        verdict.challenge, compute_content_root(OUTPUT), len(OUTPUT), entries, ROOTS, PARAMS
    )
    return verdict.challenge


def test_the_honest_record_is_consistent(index: SpanIndex) -> None:
    honest = list(trace(index, OUTPUT, PARAMS).entries)
    assert [e.contribution_id for e in honest] == [2, 3]
    verdict = audit(index, OUTPUT, honest, CONTENTS, PARAMS)
    assert verdict.consistent and verdict.challenge is None


def test_each_dishonest_record_is_proven_wrong(index: SpanIndex) -> None:
    honest = list(trace(index, OUTPUT, PARAMS).entries)
    first, second = honest
    forged = [replace(first, contribution_start=first.contribution_start + 1), second]
    assert isinstance(challenged(index, forged), Mismatch)
    outside = [replace(first, contribution_start=len(CONTENTS[2]) - 3), second]
    assert isinstance(challenged(index, outside), Mismatch)
    cut = [Entry(first.output_start + 1, first.length - 1, 2, first.contribution_start + 1), second]
    assert isinstance(challenged(index, cut), Boundaries)
    shift = len(CONTENTS[8]) - len(CONTENTS[2])
    copier = [
        replace(first, contribution_id=8, contribution_start=first.contribution_start + shift),
        second,
    ]
    assert isinstance(challenged(index, copier), Earlier)
    assert isinstance(challenged(index, [first]), Omission)


def test_a_challenge_against_the_honest_record_is_rejected(index: SpanIndex) -> None:
    honest = list(trace(index, OUTPUT, PARAMS).entries)
    challenge = audit(index, OUTPUT, [honest[0]], CONTENTS, PARAMS).challenge
    assert isinstance(challenge, Omission)
    with pytest.raises(ChallengeRejected, match="covers"):
        check_challenge(challenge, compute_content_root(OUTPUT), len(OUTPUT), honest, ROOTS, PARAMS)


def test_an_unprovable_difference_is_reported_as_such(index: SpanIndex) -> None:
    lenient = replace(PARAMS, omission_bytes=500)  # no span here is that long
    honest = list(trace(index, OUTPUT, lenient).entries)
    verdict = audit(index, OUTPUT, honest[:1], CONTENTS, lenient)
    assert not verdict.consistent and verdict.challenge is None
    assert "no challenge proves it" in verdict.finding
