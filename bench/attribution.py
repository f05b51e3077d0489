"""Benchmark of the span attribution engine (`openledger.attribution.engine`), on one core.

    .venv/bin/python bench/attribution.py [--seed S] [--contributions N] [--contributors K]
        [--bytes B] [--outputs M] [--json OUT]

A seeded synthetic Datanet (defaults: 5,000 contributions from 200 contributors, about 10.5 MB):
prose from a 30,000-word vocabulary, with boilerplate phrases put into 30 to 100 contributions
each (more than `max_occurrences`) and passages copied from a contribution into 1 to 4 later ones.
M outputs (default 1,000) of 200 to 800 words: 20% are new text only (capitalised random words,
never in the corpus); the others hold 1 to 5
planted copies of 4 to 64 words from known contributions (a quarter of them from a passage's later
copy, so the earliest holder differs from the copied one), and one output in ten a boilerplate
phrase. The truth is computed apart, by scanning the corpus with `bytes.find`: a planted copy
should credit its earliest holder when it is at least `min_span_bytes` long and held by at most
`max_occurrences` contributions, and nothing otherwise.

Prints precision and recall over (output, credited contribution) pairs, false credit (outputs
copying nothing that credit anyone), trace time per output (wall and CPU, p50/p99), the index build
rate and its bytes per byte of text, and proof sizes and gas per challenge kind. Exit status 1 when an
output's trace does not verify against its own record (weights from the evidence, evidence root).
"""

import argparse
import bisect
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from machine import describe_machine

from openledger.attribution.content import CHUNK_SIZE, build_range_proof
from openledger.attribution.engine.evidence import (
    SpanParams,
    compute_evidence_root,
    compute_weights,
    group_spans,
)
from openledger.attribution.engine.index import Content, SpanIndex
from openledger.attribution.engine.trace import trace
from openledger.attribution.span_gas import compute_span_gas
from openledger.attribution.span_proofs import count_proof_units, encode_range_proof
from openledger.consensus.staking.hooks import SINK_GAS
from openledger.state.precompile import CALL_BASE_GAS

LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Corpus:
    texts: dict[int, bytes]
    contributor: dict[int, int]
    boilerplate: list[list[str]]
    passages: list[tuple[int, int, int]]
    """(later contribution, word offset, word count) of each passage copied into a later one."""
    words: dict[int, list[str]]


def make_corpus(rng: random.Random, count: int, contributors: int, total: int) -> Corpus:
    vocab = ["".join(rng.choices(LETTERS, k=rng.randint(2, 10))) for _ in range(30_000)]
    mean_words = total / count / 7.0  # words average 6 letters and a space
    words = {
        cid: rng.choices(vocab, k=rng.randint(int(mean_words * 0.6), int(mean_words * 1.4)))
        for cid in range(1, count + 1)
    }
    boilerplate = [rng.choices(vocab, k=rng.randint(10, 20)) for _ in range(20)]
    for phrase in boilerplate:
        for cid in rng.sample(range(1, count + 1), rng.randint(30, 100)):
            at = rng.randint(0, len(words[cid]))
            words[cid][at:at] = phrase
    passages = []
    for _ in range(count // 16):
        source = rng.randint(1, count - 1)
        size = rng.randint(20, 64)
        start = rng.randint(0, max(0, len(words[source]) - size))
        passage = words[source][start : start + size]
        for later in rng.sample(
            range(source + 1, count + 1), min(rng.randint(1, 4), count - source)
        ):
            at = rng.randint(0, len(words[later]))
            words[later][at:at] = passage
            passages.append((later, at, len(passage)))
    texts = {cid: " ".join(w).encode() for cid, w in words.items()}
    owner = {cid: rng.randrange(contributors) for cid in texts}
    return Corpus(texts, owner, boilerplate, passages, words)


class Truth:
    """Holders of a piece, by scanning the corpus with `bytes.find` (independent of the index)."""

    def __init__(self, texts: dict[int, bytes]) -> None:
        self.ids = sorted(texts)
        self.starts = []
        position = 0
        for cid in self.ids:
            self.starts.append(position)
            position += len(texts[cid]) + 1
        self.corpus = b"\xff".join(texts[cid] for cid in self.ids) + b"\xff"

    def holders(self, piece: bytes) -> set[int]:
        found, at = set(), self.corpus.find(piece)
        while at >= 0:
            found.add(self.ids[bisect.bisect_right(self.starts, at) - 1])
            at = self.corpus.find(piece, at + 1)
        return found


def make_outputs(rng: random.Random, corpus: Corpus, count: int) -> list[tuple[bytes, list[bytes]]]:
    ids = sorted(corpus.words)
    outputs = []
    for number in range(count):
        length = rng.randint(200, 800)
        # new words are capitalised, so none extends a planted copy by coincidence (the engine
        # would rightly credit the longer span to whoever holds it, and the truth would miss it)
        new = [
            "".join(rng.choices(LETTERS, k=rng.randint(2, 10))).capitalize() for _ in range(length)
        ]
        copies: list[list[str]] = []
        if number % 5:
            for _ in range(rng.randint(1, 5)):
                size = rng.randint(4, 64)
                if rng.random() < 0.25 and corpus.passages:
                    later, at, length = rng.choice(corpus.passages)
                    size = min(size, length)
                    begin = at + rng.randint(0, length - size)
                    copies.append(corpus.words[later][begin : begin + size])
                else:
                    cid = rng.choice(ids)
                    begin = rng.randint(0, max(0, len(corpus.words[cid]) - size))
                    copies.append(corpus.words[cid][begin : begin + size])
            if number % 10 == 1:
                copies.append(rng.choice(corpus.boilerplate))
        slots = sorted(rng.sample(range(1, len(new)), len(copies)))
        pieces, last = [], 0
        for slot, copy in zip(slots, copies, strict=True):
            pieces += [*new[last:slot], *copy]
            last = slot
        pieces += new[last:]
        outputs.append((" ".join(pieces).encode(), [" ".join(c).encode() for c in copies]))
    return outputs


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--contributions", type=int, default=5000)
    parser.add_argument("--contributors", type=int, default=200)
    parser.add_argument("--bytes", type=int, default=10_500_000)
    parser.add_argument("--outputs", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    params = SpanParams()
    rng = random.Random(args.seed)
    print(f"machine:    {describe_machine().describe()}")
    print(f"parameters: seed={args.seed} contributions={args.contributions} "
          f"contributors={args.contributors} bytes~{args.bytes} outputs={args.outputs} {params}")  # fmt: skip
    corpus = make_corpus(rng, args.contributions, args.contributors, args.bytes)
    text_bytes = sum(len(t) for t in corpus.texts.values())
    outputs = make_outputs(rng, corpus, args.outputs)
    truth = Truth(corpus.texts)

    with tempfile.TemporaryDirectory(prefix="attribution-bench-") as folder:
        index = SpanIndex(Path(folder) / "index")
        wall, cpu = time.perf_counter(), time.process_time()
        index.sync([Content(cid, data) for cid, data in corpus.texts.items()])
        build_wall, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
        index_bytes = index.size_bytes()
        index = SpanIndex(Path(folder) / "index")  # as a later run opens it

        walls, cpus, failures = [], [], 0
        pairs = {"credited": 0, "expected": 0, "correct": 0}
        false_credit = no_copy_outputs = 0
        span_sizes: list[int] = []
        for output, copies in outputs:
            wall, cpu = time.perf_counter(), time.process_time()
            result = trace(index, output, params)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            spans = group_spans(result.entries, len(output), params)
            if (
                compute_weights(spans) != result.weights
                or compute_evidence_root(result.entries) != result.evidence_root
            ):
                failures += 1
            expected = set()
            for copy in copies:
                holders = truth.holders(copy)
                if len(copy) >= params.min_span_bytes and len(holders) <= params.max_occurrences:
                    expected.add(min(holders))
            got = set(result.weights)
            pairs["credited"] += len(got)
            pairs["expected"] += len(expected)
            pairs["correct"] += len(got & expected)
            if not copies:
                no_copy_outputs += 1
                false_credit += bool(got)
            span_sizes += [e.length for e in result.entries]
        proofs = proof_sizes(corpus, span_sizes)

    precision = pairs["correct"] / max(1, pairs["credited"])
    recall = pairs["correct"] / max(1, pairs["expected"])
    report = {
        "text_mb": text_bytes / 1e6,
        "contributions": len(corpus.texts),
        "contributors": len(set(corpus.contributor.values())),
        "build_mb_per_s_wall": text_bytes / build_wall / 1e6,
        "build_mb_per_s_cpu": text_bytes / build_cpu / 1e6,
        "index_bytes_per_text_byte": index_bytes / text_bytes,
        "precision": precision,
        "recall": recall,
        "pairs": pairs,
        "false_credit": false_credit / max(1, no_copy_outputs),
        "no_copy_outputs": no_copy_outputs,
        "trace_ms_wall_p50": 1000 * percentile(walls, 0.50),
        "trace_ms_wall_p99": 1000 * percentile(walls, 0.99),
        "trace_ms_cpu_p50": 1000 * percentile(cpus, 0.50),
        "trace_ms_cpu_p99": 1000 * percentile(cpus, 0.99),
        "mean_output_bytes": statistics.mean(len(o) for o, _ in outputs),
        "proof_bytes": proofs,
        "self_check_failures": failures,
    }
    for key, value in report.items():
        print(f"{key:28} {value:.4g}" if isinstance(value, float) else f"{key:28} {value}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if failures else 0


def proof_sizes(corpus: Corpus, span_sizes: list[int]) -> dict[str, int]:
    """Bytes of each challenge's proofs for the median and largest span of the run, in a 1 MiB
    contribution and a 1 MiB output, placed where they touch the most chunks, and the execution gas
    the challenge method charges for them (`*_gas`: the README table's fixed amount with the
    staking sink and 6 per Keccak unit; an evidence of E entries adds 24·E, calldata 16 a byte)."""
    joined = b" ".join(corpus.texts[cid] for cid in sorted(corpus.texts))
    big = (joined * (1 + (1 << 20) // len(joined)))[: 1 << 20]
    median = int(statistics.median(span_sizes)) if span_sizes else 40
    largest = max(span_sizes, default=40)
    rules = compute_span_gas(SINK_GAS)

    def proof(length: int) -> bytes:  # the most chunks a range of this length can touch
        start = (1 << 19) - 1 - (length - 2) % CHUNK_SIZE if length > 1 else 1 << 19
        return encode_range_proof(len(big), build_range_proof(big, start, length))

    def gas(method: str, *proofs: bytes) -> int:
        rule = rules[method]
        units = sum(count_proof_units(data) for data in proofs)
        return CALL_BASE_GAS + rule.base + rule.per_stored_item * units

    kinds = {
        "mismatch": ("challengeMismatch", proof(1), proof(1)),
        "boundaries": ("challengeBoundaries", proof(2), proof(2)),
        "earlier_median_span": ("challengeEarlier", proof(median), proof(median)),
        "earlier_largest_span": ("challengeEarlier", proof(largest), proof(largest)),
        "omission_median_span": ("challengeOmission", proof(median + 2), proof(median)),
    }
    figures: dict[str, int] = {}
    for kind, (method, first, second) in kinds.items():
        figures[kind] = len(first) + len(second) - 64  # RangeProof.size_bytes: 64 B of head each
        figures[f"{kind}_gas"] = gas(method, first, second)
    return {**figures, "median_span_bytes": median, "largest_span_bytes": largest}


if __name__ == "__main__":
    sys.exit(main())
