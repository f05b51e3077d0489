"""The Merkle tree of a Datanet's accepted contributions, and its published versions.

The tree is reproducible from the chain's events alone and verifiable in Solidity with
OpenZeppelin's `MerkleProof.verify(proof, root, leaf)`:

- **Leaves**, in acceptance order: the i-th contribution the Datanet accepted is leaf i, and
  `leaf = keccak256(bytes.concat(keccak256(abi.encode(contentHash))))` (OpenZeppelin's
  `StandardMerkleTree` leaf form; hashing twice keeps a leaf from passing for an inner node).
- **Pairs** hash sorted: `node = keccak256(min(a, b) || max(a, b))` (OpenZeppelin's commutative
  `_hashPair`), so a proof is just the list of siblings, leaf to root.
- **Shape**: a fixed depth of 32. Positions after the last leaf hold the zero word, so the empty
  subtree of height h has the root `ZERO_HASHES[h]` (`Z[0] = 0`, `Z[h+1] = pair(Z[h], Z[h])`);
  every proof has 32 siblings. The root of a tree with no leaves is `EMPTY_ROOT = Z[32]`
  (publishing needs at least one new contribution, so no published version has it).
- **Versions are cumulative**: version v's root covers the first `size_v` leaves, everything the
  Datanet accepted before it was published. A contribution belongs to the first version published
  after its acceptance and to every later one.

On chain the tree is kept incrementally, as Ethereum's deposit contract keeps its own: a branch
of one node per level (the last completed left subtree there) is updated when a contribution is
accepted, reading one branch node per trailing one bit of the leaf's index, and a root is computed
at publication from the branch and the zero hashes, reading one branch node per one bit of the
leaf count. Work per contribution is therefore bounded, however large the Datanet grows.
The off-chain functions at the end (`compute_root`, `compute_proof`) rebuild the same tree from
its leaves, for clients and tests.
"""

from collections.abc import Sequence
from typing import Protocol

from eth_hash.auto import keccak

TREE_DEPTH = 32
"""Levels between a leaf and the root."""
MAX_LEAVES = 1 << TREE_DEPTH
"""Leaves a tree can hold."""


def hash_pair(a: bytes, b: bytes) -> bytes:
    """The parent of two nodes: the Keccak-256 of both, smaller first."""
    return keccak(a + b) if a <= b else keccak(b + a)


def compute_leaf(content_hash: bytes) -> bytes:
    """The leaf of a contribution: `keccak256(keccak256(contentHash))`."""
    return keccak(keccak(content_hash))


def _zero_hashes() -> tuple[bytes, ...]:
    hashes = [b"\x00" * 32]
    for _ in range(TREE_DEPTH):
        hashes.append(hash_pair(hashes[-1], hashes[-1]))
    return tuple(hashes)


ZERO_HASHES = _zero_hashes()
"""Root of the all-zero subtree of each height, 0 to 32."""
EMPTY_ROOT = ZERO_HASHES[TREE_DEPTH]
"""Root of a tree without leaves."""


class Branch(Protocol):
    """The stored branch of one tree: one node per level."""

    def get_node(self, level: int) -> bytes: ...

    def set_node(self, level: int, node: bytes) -> None: ...


def count_insert_reads(index: int) -> int:
    """Branch nodes `insert_leaf` reads (and pairs it hashes) to add leaf `index`: the trailing
    one bits of `index`."""
    return (index ^ (index + 1)).bit_length() - 1


def count_root_reads(size: int) -> int:
    """Branch nodes `compute_branch_root` reads for a tree of `size` leaves: its one bits."""
    return size.bit_count()


def insert_leaf(branch: Branch, index: int, leaf: bytes) -> None:
    """Add `leaf` as leaf number `index` (the count of leaves before it)."""
    if not 0 <= index < MAX_LEAVES:
        raise ValueError(f"leaf index {index} is outside the tree of depth {TREE_DEPTH}")
    node = leaf
    for level in range(TREE_DEPTH):
        if (index >> level) & 1 == 0:
            branch.set_node(level, node)
            return
        node = hash_pair(branch.get_node(level), node)


def compute_branch_root(branch: Branch, size: int) -> bytes:
    """The root of the tree whose first `size` leaves were added with `insert_leaf`."""
    node = ZERO_HASHES[0]
    for level in range(TREE_DEPTH):
        if (size >> level) & 1:
            node = hash_pair(branch.get_node(level), node)
        else:
            node = hash_pair(node, ZERO_HASHES[level])
    return node


# --- off chain ------------------------------------------------------------------------------------


def compute_root(leaves: Sequence[bytes]) -> bytes:
    """The root of the tree holding `leaves` (recomputed from scratch)."""
    return _levels(leaves)[-1][0]


def compute_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The 32 siblings that prove leaf `index` is in the tree of `leaves`."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not among the {len(leaves)} leaves")
    proof = []
    for level, nodes in enumerate(_levels(leaves)[:-1]):
        sibling = (index >> level) ^ 1
        proof.append(nodes[sibling] if sibling < len(nodes) else ZERO_HASHES[level])
    return proof


def verify_proof(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """Whether `proof` leads from `leaf` to `root` (OpenZeppelin's `MerkleProof.verify`)."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root


def _levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """The non-empty nodes of every level, leaves first; the last level is the root."""
    if len(leaves) > MAX_LEAVES:
        raise ValueError(f"{len(leaves)} leaves do not fit a tree of depth {TREE_DEPTH}")
    levels = [list(leaves)]
    for level in range(TREE_DEPTH):
        nodes = levels[-1]
        padded = [*nodes, ZERO_HASHES[level]] if len(nodes) % 2 else nodes
        parents = [hash_pair(padded[i], padded[i + 1]) for i in range(0, len(padded), 2)]
        levels.append(parents or [ZERO_HASHES[level + 1]])
    return levels
