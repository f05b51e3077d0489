"""Content roots and range proofs (`attribution.content`), checked against a second, plain
implementation of the README's scheme written here from its text."""

import random

import pytest
from eth_hash.auto import keccak

from openledger.attribution import content
from openledger.attribution.content import (
    CHUNK_SIZE,
    ContentProofError,
    RangeProof,
    build_range_proof,
    compute_content_root,
    compute_depth,
    count_proof_hashing,
    open_range,
    verify_range_proof,
)


def reference_root(data: bytes) -> bytes:
    """The README's scheme, recursively: leaves, ordered pairs, zero padding, length bound in."""
    chunks = [data[i : i + 256] for i in range(0, len(data), 256)]

    def empty(height: int) -> bytes:
        node = bytes(32)
        for _ in range(height):
            node = keccak(b"\x01" + node + node)
        return node

    def subtree(lo: int, height: int) -> bytes:
        if lo >= len(chunks):
            return empty(height)
        if height == 0:
            return keccak(b"\x00" + chunks[lo])
        half = 1 << (height - 1)
        return keccak(b"\x01" + subtree(lo, height - 1) + subtree(lo + half, height - 1))

    depth = 0
    while (1 << depth) < len(chunks):
        depth += 1
    tree = subtree(0, depth) if chunks else bytes(32)
    return keccak(b"\x02" + len(data).to_bytes(32, "big") + tree)


SIZES = (0, 1, 255, 256, 257, 512, 700, 1024, 5 * 256 + 7, 17 * 256, 10_000)


@pytest.mark.parametrize("size", SIZES)
def test_root_matches_the_reference_scheme(size: int) -> None:
    data = random.Random(size).randbytes(size)
    assert compute_content_root(data) == reference_root(data)


def test_known_vector_of_empty_content() -> None:
    expected = keccak(b"\x02" + bytes(32) + bytes(32))
    assert compute_content_root(b"") == expected


def test_known_vector_of_two_chunks() -> None:
    data = b"a" * 256 + b"b"
    left, right = keccak(b"\x00" + b"a" * 256), keccak(b"\x00" + b"b")
    tree = keccak(b"\x01" + left + right)
    assert compute_content_root(data) == keccak(b"\x02" + (257).to_bytes(32, "big") + tree)


def test_known_vector_of_three_chunks_pads_with_the_empty_node() -> None:
    data = b"a" * 256 + b"b" * 256 + b"c"
    leaves = [keccak(b"\x00" + c) for c in (b"a" * 256, b"b" * 256, b"c")]
    pad = bytes(32)  # EMPTY[0]: the missing fourth leaf
    tree = keccak(
        b"\x01" + keccak(b"\x01" + leaves[0] + leaves[1]) + keccak(b"\x01" + leaves[2] + pad)
    )
    assert compute_content_root(data) == keccak(b"\x02" + (513).to_bytes(32, "big") + tree)


def test_length_is_bound_in() -> None:
    # same chunk, different claimed length: a different root
    assert compute_content_root(b"x") != compute_content_root(b"x" + b"\x00")
    assert compute_content_root(b"") != compute_content_root(b"\x00")


@pytest.mark.parametrize("size", [s for s in SIZES if s])
def test_every_boundary_range_opens(size: int) -> None:
    data = random.Random(size).randbytes(size)
    root = compute_content_root(data)
    edges = {0, 1, size - 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, size // 2}
    starts = sorted(e for e in edges if 0 <= e < size)
    for start in starts:
        for end in sorted({start + 1, min(size, start + CHUNK_SIZE), size}):
            proof = build_range_proof(data, start, end - start)
            assert open_range(root, size, start, end - start, proof) == data[start:end]


def test_proof_of_one_byte_in_one_mebibyte_is_one_chunk_and_twelve_hashes() -> None:
    data = random.Random(1).randbytes(1 << 20)
    assert compute_depth(len(data)) == 12
    proof = build_range_proof(data, 500_000, 1)
    assert len(proof.chunks) == 1 and len(proof.siblings) == 12
    assert proof.size_bytes() == 256 + 12 * 32 + 64
    assert (
        open_range(compute_content_root(data), len(data), 500_000, 1, proof)
        == data[500_000:500_001]
    )


def test_adjacent_chunks_share_their_path() -> None:
    data = random.Random(2).randbytes(8 * CHUNK_SIZE)
    proof = build_range_proof(data, CHUNK_SIZE, 4 * CHUNK_SIZE)  # chunks 1..4 of 8
    assert len(proof.chunks) == 4
    assert len(proof.siblings) <= 2 * compute_depth(len(data))
    assert open_range(compute_content_root(data), len(data), CHUNK_SIZE, 10, proof)


def _tampered(proof: RangeProof, **changes: object) -> RangeProof:
    fields = {"first": proof.first, "chunks": proof.chunks, "siblings": proof.siblings}
    fields.update(changes)
    return RangeProof(**fields)  # type: ignore[arg-type]


def test_tampered_proofs_are_refused() -> None:
    data = random.Random(3).randbytes(5 * CHUNK_SIZE + 100)
    root, length = compute_content_root(data), len(data)
    proof = build_range_proof(data, 2 * CHUNK_SIZE + 5, 10)
    flipped = bytes([proof.chunks[0][0] ^ 1]) + proof.chunks[0][1:]
    bad_sibling = bytes([proof.siblings[0][0] ^ 1]) + proof.siblings[0][1:]
    cases = {
        "chunk": _tampered(proof, chunks=(flipped,)),
        "path": _tampered(proof, siblings=(bad_sibling, *proof.siblings[1:])),
        "short path": _tampered(proof, siblings=proof.siblings[:-1]),
        "long path": _tampered(proof, siblings=(*proof.siblings, bytes(32))),
        "index": _tampered(proof, first=3),
    }
    for name, bad in cases.items():
        with pytest.raises(ContentProofError):
            open_range(root, length, 2 * CHUNK_SIZE + 5, 10, bad)
            pytest.fail(f"tampered {name} was accepted")
    with pytest.raises(ContentProofError):  # same proof, another length
        open_range(root, length + 1, 2 * CHUNK_SIZE + 5, 10, proof)
    with pytest.raises(ContentProofError):  # a range the carried chunks do not hold
        open_range(root, length, 4 * CHUNK_SIZE, 10, proof)
    with pytest.raises(ContentProofError):  # outside the content
        open_range(root, length, length - 5, 10, proof)


def test_last_chunk_must_have_its_exact_size() -> None:
    data = b"z" * (CHUNK_SIZE + 10)
    root = compute_content_root(data)
    proof = build_range_proof(data, CHUNK_SIZE, 10)
    padded = _tampered(proof, chunks=(proof.chunks[0] + b"\x00",))
    with pytest.raises(ContentProofError, match="bytes, not 10"):
        open_range(root, len(data), CHUNK_SIZE, 10, padded)


def test_empty_range_and_empty_content_have_no_proof() -> None:
    with pytest.raises(ContentProofError):
        build_range_proof(b"", 0, 1)
    with pytest.raises(ContentProofError):
        build_range_proof(b"abc", 1, 0)


@pytest.mark.parametrize(("size", "start", "count"), [(1, 0, 1), (700, 0, 700), (700, 255, 2),
                                                      (10_000, 3000, 900), (1 << 16, 70, 1)])  # fmt: skip
def test_hashing_count_is_what_verification_hashes(
    size: int, start: int, count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = random.Random(size).randbytes(size)
    root, proof = compute_content_root(data), build_range_proof(data, start, count)
    hashed: list[int] = []

    def counting(message: bytes) -> bytes:
        hashed.append(-(-len(message) // 32))
        return keccak(message)

    monkeypatch.setattr(content, "keccak", counting)
    verify_range_proof(root, size, proof)
    assert count_proof_hashing(size, proof) == (len(hashed), sum(hashed))


@pytest.mark.parametrize(
    ("data", "root"),
    [
        (b"", "b725f85eef4a0529eb196a4e20a12653bbd905f6228c68c6f9bc9ec72350d1ab"),
        (b"hello", "93410836eef89f1860eecae96b13b6f8ceaa91d27b90ffb8d425088d88fa50b8"),
        (bytes(range(256)) * 3, "0ebf7e821a7a75b9668add36abb83056a8700b5112578a98baa13d240383d3f9"),
    ],
)
def test_the_readme_vectors(data: bytes, root: str) -> None:
    assert reference_root(data).hex() == root
    assert compute_content_root(data).hex() == root
