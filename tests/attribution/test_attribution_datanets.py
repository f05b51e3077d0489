"""The Datanets precompile: creation, curators, contributions and quotas, reviews, versions and
their Merkle proofs, flags and penalties."""

from attribution_helpers import (
    ALICE,
    BOB,
    CAROL,
    CURATOR,
    MALLORY,
    OWNER,
    PARAMS,
    AttributionChain,
    content,
    tell_story,
)

from openledger.attribution.merkle import compute_leaf, compute_proof, compute_root

ZERO = bytes(32)


def _create(chain: AttributionChain, *, public: bool = True, owner=OWNER) -> int:  # type: ignore[no-untyped-def]
    sent = chain.send(owner, "datanets", "createDatanet", "Legal", "ipfs://legal", 0, public)
    assert sent.ok, sent.reason
    return int(sent.result)


# --- creation and curators -----------------------------------------------------------------------


def test_a_datanet_is_owned_by_its_creator_and_ids_count_from_one(chain: AttributionChain) -> None:
    chain.mine()
    sent = chain.send(OWNER, "datanets", "createDatanet", "Medical QA", "ipfs://meta", 2, False)

    assert sent.ok and sent.result == 1
    assert sent.events == [("DatanetCreated", {
        "datanetId": 1, "owner": OWNER.address, "name": "Medical QA",
        "metadataURI": "ipfs://meta", "modality": 2, "isPublic": False})]  # fmt: skip
    assert chain.view("datanets", "getDatanet", 1) == (
        OWNER.address,
        "Medical QA",
        "ipfs://meta",
        2,
        False,
        0,
        0,
    )
    assert _create(chain, owner=BOB) == 2


def test_creation_refuses_an_empty_name_and_an_unknown_modality(chain: AttributionChain) -> None:
    assert "name is empty" in chain.reason(
        OWNER.address, "datanets", "createDatanet", "", "", 0, True
    )
    assert "modality 3 is not 0 (text), 1 (image) or 2 (audio)" in chain.reason(
        OWNER.address, "datanets", "createDatanet", "n", "", 3, True
    )
    assert "no Datanet 1" in chain.reason(OWNER.address, "datanets", "getDatanet", 1)


def test_only_the_owner_names_curators(chain: AttributionChain) -> None:
    datanet = _create(chain)

    sent = chain.send(OWNER, "datanets", "setCurator", datanet, CURATOR.address, True)

    assert sent.ok
    assert sent.events == [("CuratorSet", {"datanetId": 1, "account": CURATOR.address,
                                           "allowed": True})]  # fmt: skip
    assert chain.view("datanets", "isCurator", datanet, CURATOR.address) is True
    assert "only the owner of Datanet 1" in chain.reason(
        CURATOR.address, "datanets", "setCurator", datanet, MALLORY.address, True
    )
    assert chain.send(OWNER, "datanets", "setCurator", datanet, CURATOR.address, False).ok
    assert chain.view("datanets", "isCurator", datanet, CURATOR.address) is False


# --- contributions -------------------------------------------------------------------------------


def test_a_contribution_is_pending_until_reviewed(chain: AttributionChain) -> None:
    datanet = _create(chain)

    sent = chain.send(ALICE, "datanets", "contribute", datanet, content("a"), "ipfs://a", 512)

    assert sent.ok and sent.result == 1
    assert sent.events == [("ContributionSubmitted", {
        "contributionId": 1, "datanetId": 1, "contributor": ALICE.address,
        "contentHash": content("a"), "uri": "ipfs://a", "size": 512})]  # fmt: skip
    assert chain.view("datanets", "getContribution", 1) == (
        datanet,
        ALICE.address,
        content("a"),
        "ipfs://a",
        512,
        1,
        0,
        False,
        0,
    )
    assert chain.view("datanets", "contributionByHash", datanet, content("a")) == 1


def test_the_same_content_twice_in_one_datanet_is_refused(chain: AttributionChain) -> None:
    first, second = _create(chain), _create(chain)
    assert chain.send(ALICE, "datanets", "contribute", first, content("a"), "", 1).ok

    assert "is already contribution 1 of Datanet 1" in chain.reason(
        BOB.address, "datanets", "contribute", first, content("a"), "", 1
    )
    assert chain.send(BOB, "datanets", "contribute", second, content("a"), "", 1).ok


def test_contribution_arguments_are_checked(chain: AttributionChain) -> None:
    datanet = _create(chain)

    assert "no Datanet 9" in chain.reason(
        ALICE.address, "datanets", "contribute", 9, content("a"), "", 1
    )
    assert "content hash is zero" in chain.reason(
        ALICE.address, "datanets", "contribute", datanet, ZERO, "", 1
    )
    assert "size must be positive" in chain.reason(
        ALICE.address, "datanets", "contribute", datanet, content("a"), "", 0
    )


def test_a_private_datanet_accepts_only_its_owner_and_curators(chain: AttributionChain) -> None:
    datanet = _create(chain, public=False)
    chain.send(OWNER, "datanets", "setCurator", datanet, CURATOR.address, True)

    assert "Datanet 1 is private" in chain.reason(
        ALICE.address, "datanets", "contribute", datanet, content("a"), "", 1
    )
    assert chain.send(OWNER, "datanets", "contribute", datanet, content("o"), "", 1).ok
    assert chain.send(CURATOR, "datanets", "contribute", datanet, content("c"), "", 1).ok


def test_daily_quotas_of_count_and_bytes_reset_the_next_day(chain: AttributionChain) -> None:
    datanet = _create(chain)
    for index in range(PARAMS.daily_contribution_count):
        assert chain.send(ALICE, "datanets", "contribute", datanet, content(f"a{index}"), "",
                          1).ok  # fmt: skip

    assert "6 contributions made today, the most allowed" in chain.reason(
        ALICE.address, "datanets", "contribute", datanet, content("late"), "", 1
    )
    # Bob's bytes: 9999 fit, then 2 more do not.
    assert chain.send(BOB, "datanets", "contribute", datanet, content("big"), "", 9999).ok
    assert "daily quota: 9999 of 10000 bytes used today, 2 more do not fit" in chain.reason(
        BOB.address, "datanets", "contribute", datanet, content("b2"), "", 2
    )
    # Quotas are per Datanet: another Datanet takes Alice's contributions today.
    other = _create(chain)
    assert chain.send(ALICE, "datanets", "contribute", other, content("x"), "", 1).ok

    chain.mine(seconds=86_400)

    assert chain.send(ALICE, "datanets", "contribute", datanet, content("late"), "", 1).ok
    assert chain.send(BOB, "datanets", "contribute", datanet, content("b2"), "", 2).ok


# --- reviews and versions ------------------------------------------------------------------------


def test_reviews_accept_or_reject_once_by_the_owner_or_a_curator(chain: AttributionChain) -> None:
    datanet = _create(chain)
    chain.send(OWNER, "datanets", "setCurator", datanet, CURATOR.address, True)
    for label in ("a", "b", "c"):
        chain.send(ALICE, "datanets", "contribute", datanet, content(label), "", 1)

    assert "only the owner or a curator of Datanet 1" in chain.reason(
        MALLORY.address, "datanets", "review", 1, True, 50
    )
    assert "quality score 101 is above 100" in chain.reason(
        OWNER.address, "datanets", "review", 1, True, 101
    )
    accepted = chain.send(CURATOR, "datanets", "review", 1, True, 100)
    rejected = chain.send(OWNER, "datanets", "review", 2, False, 10)

    assert accepted.events == [("ContributionReviewed", {
        "contributionId": 1, "datanetId": 1, "reviewer": CURATOR.address, "accepted": True,
        "qualityScore": 100})]  # fmt: skip
    assert rejected.ok
    assert chain.view("datanets", "getContribution", 1)[5:] == (2, 100, False, 0)
    assert chain.view("datanets", "getContribution", 2)[5:7] == (3, 10)
    assert "contribution 1 was already reviewed" in chain.reason(
        OWNER.address, "datanets", "review", 1, False, 0
    )
    assert "no contribution 7" in chain.reason(OWNER.address, "datanets", "review", 7, True, 0)
    assert chain.view("datanets", "getDatanet", datanet)[5:] == (0, 1)


def test_a_version_is_the_merkle_root_of_everything_accepted_before_it(
    chain: AttributionChain,
) -> None:
    datanet = _create(chain)
    labels = ["a", "b", "c", "d", "e"]
    for label in labels:
        chain.send(ALICE, "datanets", "contribute", datanet, content(label), "", 1)
    # Accepted in the order c, a, e; b rejected; d still pending.
    for contribution, accept in ((3, True), (1, True), (2, False), (5, True)):
        chain.send(OWNER, "datanets", "review", contribution, accept, 50)
    leaves = [compute_leaf(content(label)) for label in ("c", "a", "e")]

    published = chain.send(OWNER, "datanets", "publishVersion", datanet)

    assert published.result == (1, compute_root(leaves))
    assert published.events == [("VersionPublished", {
        "datanetId": 1, "version": 1, "root": compute_root(leaves), "contributionCount": 3})]  # fmt: skip
    assert chain.view("datanets", "getVersion", datanet, 1) == (
        compute_root(leaves),
        3,
        chain.head.block_number,
    )
    assert [chain.view("datanets", "getContribution", c)[8] for c in (3, 1, 5)] == [0, 1, 2]
    for index, label in enumerate(("c", "a", "e")):
        proof = compute_proof(leaves, index)
        assert chain.view("datanets", "verifyInclusion", datanet, 1, content(label), proof)
        assert not chain.view("datanets", "verifyInclusion", datanet, 1, content("b"), proof)

    # Version 2 is cumulative: it adds d to the three of version 1.
    assert "no contribution was accepted in Datanet 1 since version 1" in chain.reason(
        OWNER.address, "datanets", "publishVersion", datanet
    )
    chain.send(OWNER, "datanets", "review", 4, True, 50)
    leaves.append(compute_leaf(content("d")))
    assert chain.send(OWNER, "datanets", "publishVersion", datanet).result == (
        2,
        compute_root(leaves),
    )
    assert chain.view("datanets", "getDatanet", datanet)[5:] == (2, 4)
    # The first version still answers for its own root.
    assert chain.view("datanets", "getVersion", datanet, 1)[:2] == (compute_root(leaves[:3]), 3)


def test_publishing_is_for_the_owner_and_needs_something_new(chain: AttributionChain) -> None:
    datanet = _create(chain)

    assert "no contribution was accepted in Datanet 1 since its creation" in chain.reason(
        OWNER.address, "datanets", "publishVersion", datanet
    )
    chain.send(ALICE, "datanets", "contribute", datanet, content("a"), "", 1)
    chain.send(OWNER, "datanets", "review", 1, True, 50)
    assert "only the owner of Datanet 1" in chain.reason(
        ALICE.address, "datanets", "publishVersion", datanet
    )
    assert "Datanet 1 has no version 1 (latest: 0)" in chain.reason(
        ALICE.address, "datanets", "getVersion", datanet, 1
    )
    assert "has no version 0" in chain.reason(
        ALICE.address, "datanets", "verifyInclusion", datanet, 0, content("a"), []
    )


# --- flags ---------------------------------------------------------------------------------------


def test_flags_count_penalties_and_bar_the_contributor_at_the_threshold(
    chain: AttributionChain,
) -> None:
    story = tell_story(chain)
    chain.send(OWNER, "datanets", "setCurator", story.datanet, CURATOR.address, True)
    assert "only the owner or a curator" in chain.reason(
        MALLORY.address, "datanets", "flag", 1, "spam"
    )

    sent = chain.send(CURATOR, "datanets", "flag", 1, "copied from a textbook")

    assert sent.events == [("ContributionFlagged", {
        "contributionId": 1, "datanetId": 1, "contributor": ALICE.address,
        "flaggedBy": CURATOR.address, "reason": "copied from a textbook", "penalties": 1})]  # fmt: skip
    assert chain.view("datanets", "getContribution", 1)[7] is True
    assert chain.view("datanets", "penalties", story.datanet, ALICE.address) == 1
    assert chain.view("attribution", "contributorStats", ALICE.address) == (0, 0, 1)
    assert "contribution 1 is already flagged" in chain.reason(
        OWNER.address, "datanets", "flag", 1, ""
    )
    # One penalty of two: Alice may still contribute; a pending contribution may be flagged.
    assert chain.send(ALICE, "datanets", "contribute", 1, content("a2"), "", 1).ok
    assert chain.send(OWNER, "datanets", "flag", 4, "spam").ok

    assert "has 2 penalties in Datanet 1 and may no longer contribute to it" in chain.reason(
        ALICE.address, "datanets", "contribute", 1, content("a3"), "", 1
    )
    assert chain.send(BOB, "datanets", "contribute", 1, content("b3"), "", 1).ok
    other = _create(chain)
    assert chain.send(ALICE, "datanets", "contribute", other, content("a3"), "", 1).ok
    assert "no contribution 99" in chain.reason(OWNER.address, "datanets", "flag", 99, "")
    # A rejected contribution may be flagged too: it counts against its contributor.
    assert chain.send(OWNER, "datanets", "flag", story.rejected, "spam").ok
    assert chain.view("datanets", "penalties", story.datanet, CAROL.address) == 1
