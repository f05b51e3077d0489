"""Content roots: the commitment to a contribution's (or an output's) exact bytes.

A content root commits to a byte string so that any byte range of it can be proven with the chunks
that hold the range and a short Merkle path, which is what an on-chain challenge carries:

- **Chunks**: the bytes cut into `CHUNK_SIZE` (256-byte) chunks; the last one may be shorter;
  empty content has no chunk.
- **Leaves**: `leaf_i = keccak256(0x00 ‖ chunk_i)`. The chunk's index is not hashed in: the tree
  is ordered (left ‖ right), so the path's left/right turns fix the index.
- **Tree**: `n` chunks make a binary tree of depth `d = ceil(log2(n))` (0 for one chunk or none);
  `node = keccak256(0x01 ‖ left ‖ right)`, not sorted. Positions after the last chunk hold the
  empty subtree `EMPTY[h]` (`EMPTY[0]` = 32 zero bytes, `EMPTY[h+1] = node(EMPTY[h], EMPTY[h])`);
  no tag-0x00 or tag-0x01 hash is ever 32 zero bytes in practice.
- **Root**: `keccak256(0x02 ‖ uint256(length) ‖ treeRoot)`, `treeRoot = EMPTY[0]` for no chunk.
  The length fixes the number of chunks, the depth and the last chunk's size, so a verifier
  knows all three from `(root, length)`.

A range proof covers chunks `first .. first+k-1` and carries those chunks and the siblings the
verifier cannot compute: level by level from the leaves, the left neighbour of the leftmost node
when that node is a right child, then the right neighbour of the rightmost node when that node is a
left child and the neighbour holds a chunk (a neighbour past the last chunk is `EMPTY[level]`).
That is at most `2d` hashes; for 1 MiB (4,096 chunks, d = 12) a one-byte range is proven by one
chunk and 12 hashes (256 + 384 bytes), and a 200-byte span by at most 2 chunks and 22 hashes
(1,216 bytes). Chunks are small because challenges carry them in calldata (16 gas a byte), while
a chunk's hashing costs little (keccak256: 30 gas + 6 a word). This module is pure: no chain
state, no files.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from eth_hash.auto import keccak

from openledger.genesis.errors import OpenLedgerError

CHUNK_SIZE = 256
"""Bytes per chunk (the last chunk of content may be shorter)."""
LEAF_TAG = b"\x00"
NODE_TAG = b"\x01"
ROOT_TAG = b"\x02"
MAX_DEPTH = 64
"""Deepest tree the scheme allows (lengths below 2**74 bytes)."""


class ContentProofError(OpenLedgerError):
    """A range proof does not prove what it claims (the message says what is wrong)."""


@dataclass(frozen=True, slots=True)
class RangeProof:
    """Proof that `chunks` are chunks `first .. first+len(chunks)-1` of the content of a root."""

    first: int
    """Index of the first chunk carried."""
    chunks: tuple[bytes, ...]
    """The chunks, in order (at least one)."""
    siblings: tuple[bytes, ...]
    """The 32-byte hashes the verifier cannot compute, in the order of the module docstring."""

    def size_bytes(self) -> int:
        """Bytes the proof carries: the chunks, the siblings and two 32-byte words (first, count)."""
        return sum(len(chunk) for chunk in self.chunks) + 32 * len(self.siblings) + 64


def _empty_hashes() -> tuple[bytes, ...]:
    hashes = [b"\x00" * 32]
    for _ in range(MAX_DEPTH):
        hashes.append(hash_node(hashes[-1], hashes[-1]))
    return tuple(hashes)


def hash_leaf(chunk: bytes) -> bytes:
    """The leaf of one chunk: `keccak256(0x00 ‖ chunk)`."""
    return keccak(LEAF_TAG + chunk)


def hash_node(left: bytes, right: bytes) -> bytes:
    """An inner node: `keccak256(0x01 ‖ left ‖ right)` (ordered, not sorted)."""
    return keccak(NODE_TAG + left + right)


EMPTY = _empty_hashes()
"""Root of the empty subtree of each height."""


def count_chunks(length: int) -> int:
    """Chunks of content of `length` bytes."""
    return -(-length // CHUNK_SIZE)


def compute_depth(length: int) -> int:
    """Depth of the chunk tree of content of `length` bytes."""
    return max(count_chunks(length) - 1, 0).bit_length()


def compute_content_root(data: bytes) -> bytes:
    """The content root of `data`."""
    levels = _levels(data)
    return _bind_length(len(data), levels[-1][0] if levels[-1] else EMPTY[0])


def build_range_proof(data: bytes, start: int, size: int) -> RangeProof:
    """The proof of bytes `start .. start+size-1` of `data` (at least one byte, inside `data`)."""
    if size <= 0 or start < 0 or start + size > len(data):
        raise ContentProofError(
            f"range of {size} bytes at {start} is not a non-empty range of {len(data)} bytes"
        )
    first, last = start // CHUNK_SIZE, (start + size - 1) // CHUNK_SIZE
    levels = _levels(data)
    siblings: list[bytes] = []
    lo, hi = first, last
    for nodes in levels[:-1]:
        if lo % 2 == 1:
            siblings.append(nodes[lo - 1])
        if hi % 2 == 0 and hi + 1 < len(nodes):
            siblings.append(nodes[hi + 1])
        lo, hi = lo // 2, hi // 2
    chunks = tuple(data[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE] for i in range(first, last + 1))
    return RangeProof(first, chunks, tuple(siblings))


def open_range(root: bytes, length: int, start: int, size: int, proof: RangeProof) -> bytes:
    """Bytes `start .. start+size-1` of the content of `(root, length)`, proven by `proof`.

    Raises `ContentProofError` when the range is outside the content or the proof is wrong.
    """
    if size <= 0 or start < 0 or start + size > length:
        raise ContentProofError(
            f"range of {size} bytes at {start} is outside content of {length} bytes"
        )
    verify_range_proof(root, length, proof)
    offset = start - proof.first * CHUNK_SIZE
    data = b"".join(proof.chunks)
    if offset < 0 or offset + size > len(data):
        raise ContentProofError(
            f"the proof carries chunks {proof.first}..{proof.first + len(proof.chunks) - 1}, "
            f"not bytes {start}..{start + size - 1}"
        )
    return data[offset : offset + size]


def verify_range_proof(root: bytes, length: int, proof: RangeProof) -> None:
    """Check `proof` against `(root, length)`; raises `ContentProofError` if it fails."""
    chunk_count = count_chunks(length)
    depth = compute_depth(length)
    if depth > MAX_DEPTH:
        raise ContentProofError(f"length {length} is beyond the deepest tree")
    first, count = proof.first, len(proof.chunks)
    if count == 0 or first < 0 or first + count > chunk_count:
        raise ContentProofError(
            f"chunks {first}..{first + count - 1} are not among the {chunk_count} chunks"
        )
    for index, chunk in enumerate(proof.chunks, start=first):
        expected = CHUNK_SIZE if index < chunk_count - 1 else length - CHUNK_SIZE * index
        if len(chunk) != expected:
            raise ContentProofError(f"chunk {index} has {len(chunk)} bytes, not {expected}")
    nodes = [hash_leaf(chunk) for chunk in proof.chunks]
    siblings = iter(proof.siblings)
    lo, hi, width = first, first + count - 1, chunk_count
    for level in range(depth):
        if lo % 2 == 1:
            nodes.insert(0, _next_sibling(siblings))
            lo -= 1
        if hi % 2 == 0:
            nodes.append(_next_sibling(siblings) if hi + 1 < width else EMPTY[level])
            hi += 1
        nodes = [hash_node(nodes[i], nodes[i + 1]) for i in range(0, len(nodes), 2)]
        lo, hi, width = lo // 2, hi // 2, -(-width // 2)
    if next(siblings, None) is not None:
        raise ContentProofError("the proof carries more siblings than the path needs")
    if _bind_length(length, nodes[0]) != root:
        raise ContentProofError(f"the proof does not lead to root 0x{root.hex()}")


def count_proof_hashing(length: int, proof: RangeProof) -> tuple[int, int]:
    """The Keccak-256 calls and 32-byte words (rounded up per call) `verify_range_proof` hashes
    for a well-formed `proof`: what a precompile charges, at 30 gas a call and 6 a word."""
    calls = len(proof.chunks) + 1  # the leaves and the length binding
    words = sum(-(-(1 + len(chunk)) // 32) for chunk in proof.chunks) + 3
    lo, hi = proof.first, proof.first + len(proof.chunks) - 1
    for _ in range(compute_depth(length)):
        lo, hi = lo - lo % 2, hi + 1 - hi % 2
        pairs = (hi - lo + 1) // 2
        calls, words = calls + pairs, words + 3 * pairs  # an inner node hashes 65 bytes
        lo, hi = lo // 2, hi // 2
    return calls, words


def _next_sibling(siblings: Iterator[bytes]) -> bytes:
    sibling = next(siblings, None)
    if sibling is None:
        raise ContentProofError("the proof carries too few siblings")
    if len(sibling) != 32:
        raise ContentProofError(f"a sibling has {len(sibling)} bytes, not 32")
    return sibling


def _bind_length(length: int, tree_root: bytes) -> bytes:
    return keccak(ROOT_TAG + length.to_bytes(32, "big") + tree_root)


def _levels(data: bytes) -> list[list[bytes]]:
    """The nodes holding chunks at every level, leaves first; the last level is `[treeRoot]`
    (or empty for empty content)."""
    level = [hash_leaf(data[i : i + CHUNK_SIZE]) for i in range(0, len(data), CHUNK_SIZE)]
    levels = [level]
    height = 0
    while len(level) > 1:
        padded: Sequence[bytes] = [*level, EMPTY[height]] if len(level) % 2 else level
        level = [hash_node(padded[i], padded[i + 1]) for i in range(0, len(padded), 2)]
        levels.append(level)
        height += 1
    return levels
