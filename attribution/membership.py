"""Whether a contribution may earn from a model: accepted, not flagged, in the cited version.

A contribution is in a model's index when it is accepted, in the version of its Datanet the model
cites (versions are cumulative, so its leaf index is below the version's size) and not flagged.
Acceptance and versions never change once set, so only the flag depends on when one asks: a span
record is judged as of the block that recorded it (`as_of`), so a flag raised later cannot make
an honest record challengeable. A flag raised in the record's own block counts as raised before
it (the order inside a block is not visible afterwards, and this way only shrinks what a
challenger may cite).
"""

from openledger.attribution.layout import (
    CONTRIBUTION_CONTRIBUTOR,
    CONTRIBUTION_DATANET,
    CONTRIBUTION_IS_FLAGGED,
    CONTRIBUTION_LEAF,
    CONTRIBUTION_STATUS,
    MODEL_CITES,
    VERSION_SIZE,
    ContributionStatus,
    datanets_of,
    models_of,
)
from openledger.genesis.types import Address
from openledger.state.precompile import Call

MEMBER_READS = 7
"""Slots `require_member` reads (status, flag, Datanet, cited version, leaf, version size,
contributor)."""


def require_member(call: Call, model: int, contribution: int, as_of: int | None = None) -> Address:
    """The contribution's contributor, after checking it is in the model's index (now, or as of
    block `as_of`); reverts naming what fails."""
    datanets, models = datanets_of(call.state), models_of(call.state)
    status = datanets.get(CONTRIBUTION_STATUS, contribution)
    if status != ContributionStatus.ACCEPTED:
        call.revert(f"contribution {contribution} is "
                    + ("unknown" if status == 0 else "not accepted"))  # fmt: skip
    flagged = datanets.get(CONTRIBUTION_IS_FLAGGED, contribution)
    if flagged and (as_of is None or flagged <= as_of):
        call.revert(f"contribution {contribution} is flagged"
                    + ("" if as_of is None else f" (since block {flagged})"))  # fmt: skip
    datanet = datanets.get(CONTRIBUTION_DATANET, contribution)
    version = models.get(MODEL_CITES, model, datanet)
    if version == 0:
        call.revert(f"model {model} does not cite Datanet {datanet} of contribution "
                    f"{contribution}")  # fmt: skip
    if datanets.get(CONTRIBUTION_LEAF, contribution) >= datanets.get(
        VERSION_SIZE, datanet, version
    ):
        call.revert(f"contribution {contribution} is not in version {version} of Datanet "
                    f"{datanet}, which model {model} cites")  # fmt: skip
    return datanets.get_address(CONTRIBUTION_CONTRIBUTOR, contribution)
