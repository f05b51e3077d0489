"""The Datanet version tree (`attribution.merkle`) and the fee split (`attribution.split`), as pure
functions: the incremental tree gives the roots of the documented tree, and a split pays out
exactly the fee."""

import pytest
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from openledger.attribution.merkle import (
    EMPTY_ROOT,
    ZERO_HASHES,
    compute_branch_root,
    compute_leaf,
    compute_proof,
    compute_root,
    count_insert_reads,
    count_root_reads,
    hash_pair,
    insert_leaf,
    verify_proof,
)
from openledger.attribution.split import compute_fee_split
from openledger.genesis.model import AttributionParams


class DictBranch:
    """A branch in a dictionary, counting its reads."""

    def __init__(self) -> None:
        self.nodes: dict[int, bytes] = {}
        self.reads = 0

    def get_node(self, level: int) -> bytes:
        self.reads += 1
        return self.nodes.get(level, bytes(32))

    def set_node(self, level: int, node: bytes) -> None:
        self.nodes[level] = node


def _leaves(count: int) -> list[bytes]:
    return [compute_leaf(keccak(f"document {index}".encode())) for index in range(count)]


# --- the tree --------------------------------------------------------------------------------------


def test_pairs_hash_sorted_and_leaves_hash_twice() -> None:
    a, b = b"\x01" * 32, b"\x02" * 32

    assert hash_pair(a, b) == hash_pair(b, a) == keccak(a + b)
    assert compute_leaf(b"\xaa" * 32) == keccak(keccak(b"\xaa" * 32))


def test_the_empty_tree_root_is_the_zero_subtree_of_height_32() -> None:
    node = bytes(32)
    for _ in range(32):
        node = keccak(node + node)

    assert EMPTY_ROOT == ZERO_HASHES[32] == node == compute_root([])
    assert EMPTY_ROOT.hex() == node.hex()


def test_a_one_leaf_tree_pairs_the_leaf_with_zero_subtrees() -> None:
    leaf = compute_leaf(b"\x07" * 32)
    node = leaf
    for level in range(32):
        node = hash_pair(node, ZERO_HASHES[level])

    assert compute_root([leaf]) == node


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=70))
def test_the_incremental_tree_gives_the_root_of_every_prefix(count: int) -> None:
    leaves, branch = _leaves(count), DictBranch()
    assert compute_branch_root(branch, 0) == EMPTY_ROOT

    for index, leaf in enumerate(leaves):
        branch.reads = 0
        insert_leaf(branch, index, leaf)
        assert branch.reads == count_insert_reads(index)
        branch.reads = 0
        assert compute_branch_root(branch, index + 1) == compute_root(leaves[: index + 1])
        assert branch.reads == count_root_reads(index + 1)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.data())
def test_every_leaf_has_a_32_sibling_proof_and_no_other_leaf_passes(
    count: int, data: st.DataObject
) -> None:
    leaves = _leaves(count)
    root = compute_root(leaves)
    index = data.draw(st.integers(min_value=0, max_value=count - 1))

    proof = compute_proof(leaves, index)

    assert len(proof) == 32
    assert verify_proof(proof, root, leaves[index])
    assert not verify_proof(proof, root, compute_leaf(b"\x99" * 32))
    assert not verify_proof(proof[:-1], root, leaves[index])


def test_tree_read_counts() -> None:
    assert [count_insert_reads(index) for index in range(8)] == [0, 1, 0, 2, 0, 1, 0, 3]
    assert [count_root_reads(size) for size in range(8)] == [0, 1, 1, 2, 1, 2, 2, 3]


def test_a_proof_for_a_leaf_outside_the_tree_is_refused() -> None:
    with pytest.raises(IndexError):
        compute_proof(_leaves(2), 2)


# --- the split -------------------------------------------------------------------------------------

PARAMS = AttributionParams(
    protocol_fee_bps=1000, model_owner_fee_bps=3000, agent_owner_fee_bps=1000
)


def test_a_split_with_an_agent_follows_the_basis_points() -> None:
    split = compute_fee_split(PARAMS, 10_000, [3, 1], has_agent=True)

    assert (split.protocol, split.model_owner, split.agent_owner) == (1000, 3000, 1000)
    assert split.contributions == (3750, 1250)


def test_without_an_agent_its_share_goes_to_the_contributors() -> None:
    split = compute_fee_split(PARAMS, 10_000, [1], has_agent=False)

    assert split.agent_owner == 0
    assert split.contributions == (6000,)


def test_rounding_remainders_go_to_the_contributors_and_the_heaviest_contribution() -> None:
    # 7 wei: 10% and 30% round down to 0 and 2; the pool is 5 (the agent's 0 included).
    split = compute_fee_split(PARAMS, 7, [1, 2, 2], has_agent=True)

    assert (split.protocol, split.model_owner, split.agent_owner) == (0, 2, 0)
    # 5 * (1, 2, 2) // 5 = (1, 2, 2): no remainder here; with 3 weights of one, two wei
    # remain and go to the first of the equal heaviest.
    assert split.contributions == (1, 2, 2)
    assert compute_fee_split(PARAMS, 7, [1, 1, 1], has_agent=True).contributions == (3, 1, 1)
    assert compute_fee_split(PARAMS, 7, [1, 5, 5], has_agent=True).contributions == (0, 3, 2)


@settings(max_examples=300, deadline=None)
@given(
    fee=st.integers(min_value=0, max_value=2**128),
    weights=st.lists(st.integers(min_value=1, max_value=2**64), min_size=1, max_size=64),
    shares=st.tuples(*(st.integers(0, 10_000),) * 3).filter(lambda bps: sum(bps) <= 10_000),
    has_agent=st.booleans(),
)
def test_a_split_always_pays_exactly_the_fee(
    fee: int, weights: list[int], shares: tuple[int, int, int], has_agent: bool
) -> None:
    params = AttributionParams(*shares)

    split = compute_fee_split(params, fee, weights, has_agent=has_agent)

    assert split.total == fee
    assert all(part >= 0 for part in split.contributions)
    assert split.protocol == fee * shares[0] // 10_000
    heaviest = weights.index(max(weights))
    for index, (weight, part) in enumerate(zip(weights, split.contributions, strict=True)):
        fair = split.contributors * weight // sum(weights)
        assert part == fair or index == heaviest
    assert split.contributions[heaviest] - split.contributors * max(weights) // sum(weights) < len(
        weights
    )


def test_a_split_refuses_missing_or_zero_weights() -> None:
    with pytest.raises(ValueError):
        compute_fee_split(PARAMS, 1, [], has_agent=False)
    with pytest.raises(ValueError):
        compute_fee_split(PARAMS, 1, [1, 0], has_agent=False)
