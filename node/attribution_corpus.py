"""What the attribution commands read from the chain and the content directory: the precompiles'
interfaces, the contributions a model's record may credit, and the checked span index over them.

A model's corpus is the accepted, unflagged contributions in the Datanet versions it cites (a
contribution is in version v of its Datanet when its leaf index is below the version's size).
Contributions are found through the `ContributionReviewed` events of each cited Datanet, then
read with `getContribution`, all at one block, so the corpus is the chain's view at that block.
Every blob comes from the content directory checked against its content root
(`ContentDirectory.get`), so a missing or altered blob names its contribution.

The index lives under the content directory, in `.index/chain<ID>-<what>` (or `--index DIR`):
one index per set of cited Datanets (`datanets-1-4`) or per overlap check (`overlap-3`), so
successive versions of the same Datanets extend it (`SpanIndex.sync`).
"""

from dataclasses import dataclass
from pathlib import Path

from openledger.attribution import datanets, models, rewards
from openledger.attribution.challenges import CHALLENGE_SIGNATURES
from openledger.attribution.engine.index import SpanIndex
from openledger.attribution.engine.store import ContentDirectory, read_contributions
from openledger.attribution.events import (
    ATTRIBUTION_EVENTS,
    CONTRIBUTION_REVIEWED,
    DATANETS_EVENTS,
    MODELS_EVENTS,
)
from openledger.attribution.layout import ContributionStatus
from openledger.attribution.span_records import SPAN_SIGNATURES
from openledger.genesis.model import ATTRIBUTION_ADDRESS, DATANETS_ADDRESS, MODELS_ADDRESS
from openledger.node.chain_client import ChainClient, Interface

DATANETS = Interface("Datanets", DATANETS_ADDRESS, datanets.SIGNATURES, DATANETS_EVENTS)
MODELS = Interface("Models", MODELS_ADDRESS, models.SIGNATURES, MODELS_EVENTS)
ATTRIBUTION = Interface(
    "Attribution",
    ATTRIBUTION_ADDRESS,
    rewards.SIGNATURES + SPAN_SIGNATURES + CHALLENGE_SIGNATURES,  # as `rewards_precompile` serves
    ATTRIBUTION_EVENTS,
)


@dataclass(frozen=True, slots=True)
class Member:
    """One contribution of a corpus, as the chain records it."""

    contribution_id: int
    datanet_id: int
    contributor: str
    content_root: bytes
    size: int
    leaf: int


@dataclass(frozen=True, slots=True)
class Corpus:
    """A synced index and the checked bytes of every contribution it holds."""

    index: SpanIndex
    members: dict[int, Member]
    contents: dict[int, bytes]


def accepted_members(client: ChainClient, datanet: int, block: int | None = None) -> list[Member]:
    """The accepted, unflagged contributions of `datanet` at `block`, by ascending id; an unknown
    Datanet raises the precompile's reason ("no Datanet 9")."""
    client.view(DATANETS, "getDatanet", datanet, block=block)
    reviews = client.get_logs(DATANETS, CONTRIBUTION_REVIEWED, None, datanet, to_block=block)
    found = []
    for cid in sorted({review["contributionId"] for review in reviews if review["accepted"]}):
        owner_datanet, contributor, root, _, size, status, _, flagged, leaf = client.view(
            DATANETS, "getContribution", cid, block=block
        )
        if status == ContributionStatus.ACCEPTED and not flagged and owner_datanet == datanet:
            found.append(Member(cid, datanet, contributor, root, size, leaf))
    return found


def model_members(client: ChainClient, model: int, block: int | None = None) -> list[Member]:
    """The contributions a record of `model` may credit, by ascending id."""
    datanet_ids, versions = client.view(MODELS, "getModelDatanets", model, block=block)
    members = []
    for datanet, version in zip(datanet_ids, versions, strict=True):
        _, size, _ = client.view(DATANETS, "getVersion", datanet, version, block=block)
        members += [m for m in accepted_members(client, datanet, block) if m.leaf < size]
    return sorted(members, key=lambda member: member.contribution_id)


def model_index_name(client: ChainClient, model: int) -> str:
    """The default index folder of a model's corpus (shared by models citing the same Datanets)."""
    datanet_ids, _ = client.view(MODELS, "getModelDatanets", model)
    return f"chain{client.chain_id}-datanets-" + "-".join(str(d) for d in sorted(datanet_ids))


def load_corpus(
    members: list[Member], content: Path, index: Path | None, default_name: str
) -> Corpus:
    """Read every member's blob (checked) and sync the index to exactly those contributions."""
    directory = ContentDirectory(content)
    checked = read_contributions(directory, [(m.contribution_id, m.content_root) for m in members])
    span_index = SpanIndex(index if index is not None else content / ".index" / default_name)
    span_index.sync(checked)
    return Corpus(
        span_index,
        {m.contribution_id: m for m in members},
        {c.contribution_id: c.data for c in checked},
    )
