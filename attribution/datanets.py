"""The Datanets precompile at `0x0000000000000000000000000000000000000a01` (`IDatanets.sol`).

A Datanet is a dataset its creator owns. Contributors submit content by hash (the content itself
lives off chain at `uri`); the owner or a curator the owner named reviews each submission, and the
owner publishes versions: Merkle roots of everything accepted so far (`attribution.merkle`).

Rules, beyond the caller checks the interface states:

- A content hash may appear once per Datanet, whatever became of the first submission.
- Private Datanets accept contributions from their owner and curators only.
- Each contributor may add at most `dailyContributionBytes` declared bytes and
  `dailyContributionCount` contributions to one Datanet per day; a day is
  `block.timestamp // 86400` (UTC days).
- A flag (by the owner or a curator) stops a contribution from earning from then on and adds one
  to its contributor's penalties in that Datanet; with `flagPenaltyThreshold` penalties the
  contributor may no longer contribute to it. A flagged contribution stays in the versions that
  include it: a published root never changes.
- `publishVersion` needs at least one contribution accepted since the previous version.
- Quality scores run from 0 to 100.
"""

from typing import Any

from openledger.attribution.events import (
    CONTRIBUTION_FLAGGED,
    CONTRIBUTION_REVIEWED,
    CONTRIBUTION_SUBMITTED,
    CURATOR_SET,
    DATANET_CREATED,
    DATANETS_EVENTS,
    VERSION_PUBLISHED,
)
from openledger.attribution.gas import DATANETS_GAS
from openledger.attribution.layout import (
    CONTRIBUTION_CONTRIBUTOR,
    CONTRIBUTION_COUNT,
    CONTRIBUTION_DATANET,
    CONTRIBUTION_HASH,
    CONTRIBUTION_IS_FLAGGED,
    CONTRIBUTION_LEAF,
    CONTRIBUTION_QUALITY,
    CONTRIBUTION_SIZE,
    CONTRIBUTION_STATUS,
    CONTRIBUTION_URI,
    DATANET_ACCEPTED,
    DATANET_BRANCH,
    DATANET_COUNT,
    DATANET_CURATOR,
    DATANET_HASH,
    DATANET_MODALITY,
    DATANET_NAME,
    DATANET_OWNER,
    DATANET_PUBLIC,
    DATANET_URI,
    DATANET_VERSION,
    FLAGS,
    PENALTIES,
    QUOTA_BYTES,
    QUOTA_COUNT,
    VERSION_BLOCK,
    VERSION_ROOT,
    VERSION_SIZE,
    ContributionStatus,
    Modality,
    Records,
)
from openledger.attribution.merkle import (
    MAX_LEAVES,
    compute_branch_root,
    compute_leaf,
    insert_leaf,
    verify_proof,
)
from openledger.genesis.model import DATANETS_ADDRESS, AttributionParams
from openledger.genesis.types import Address
from openledger.state import precompile
from openledger.state.precompile import Call, hex_address

SECONDS_PER_DAY = 86_400
"""Quota days are `block.timestamp // SECONDS_PER_DAY`."""
MAX_QUALITY_SCORE = 100
"""Highest quality score a review may give."""
ZERO_ADDRESS = Address(b"\x00" * 20)

SIGNATURES: tuple[precompile.Signature, ...] = (
    ("createDatanet", (("name", "string"), ("metadataURI", "string"), ("modality", "uint8"),
                       ("isPublic", "bool")), ("uint256",), "nonpayable"),
    ("setCurator", (("datanetId", "uint256"), ("account", "address"), ("allowed", "bool")), (),
     "nonpayable"),
    ("contribute", (("datanetId", "uint256"), ("contentHash", "bytes32"), ("uri", "string"),
                    ("size", "uint256")), ("uint256",), "nonpayable"),
    ("review", (("contributionId", "uint256"), ("accept", "bool"), ("qualityScore", "uint256")),
     (), "nonpayable"),
    ("publishVersion", (("datanetId", "uint256"),), ("uint256", "bytes32"), "nonpayable"),
    ("flag", (("contributionId", "uint256"), ("reason", "string")), (), "nonpayable"),
    ("getDatanet", (("datanetId", "uint256"),),
     ("address", "string", "string", "uint8", "bool", "uint256", "uint256"), "view"),
    ("isCurator", (("datanetId", "uint256"), ("account", "address")), ("bool",), "view"),
    ("getContribution", (("contributionId", "uint256"),),
     ("uint256", "address", "bytes32", "string", "uint256", "uint8", "uint256", "bool", "uint256"),
     "view"),
    ("contributionByHash", (("datanetId", "uint256"), ("contentHash", "bytes32")), ("uint256",),
     "view"),
    ("getVersion", (("datanetId", "uint256"), ("version", "uint256")),
     ("bytes32", "uint256", "uint256"), "view"),
    ("verifyInclusion", (("datanetId", "uint256"), ("version", "uint256"),
                         ("contentHash", "bytes32"), ("proof", "bytes32[]")), ("bool",), "view"),
    ("penalties", (("datanetId", "uint256"), ("contributor", "address")), ("uint256",), "view"),
)  # fmt: skip
"""The ABI of `IDatanets.sol`, in its order."""


def make_datanets_precompile(params: AttributionParams) -> precompile.StatefulPrecompile:
    """The Datanets precompile of a chain with these parameters."""
    return precompile.declare_precompile(
        "datanets",
        DATANETS_ADDRESS,
        SIGNATURES,
        _DatanetMethods(params),
        DATANETS_GAS,
        DATANETS_EVENTS,
    )


class _DatanetMethods(precompile.MethodHandlers[AttributionParams]):
    """The handlers; each is called with the `Call` and the decoded arguments."""

    # --- transactions ---------------------------------------------------------------------------

    def createDatanet(  # noqa: N802
        self, call: Call, name: str, metadata_uri: str, modality: int, is_public: bool
    ) -> int:
        if not name:
            call.revert("name is empty")
        if modality >= len(Modality):
            call.revert(f"modality {modality} is not 0 (text), 1 (image) or 2 (audio)")
        records = Records(call.storage)
        datanet = records.add(DATANET_COUNT, delta=1)
        records.set_address(DATANET_OWNER, datanet, to=call.sender)
        records.set_string(DATANET_NAME, datanet, to=name)
        records.set_string(DATANET_URI, datanet, to=metadata_uri)
        records.set(DATANET_MODALITY, datanet, to=modality)
        records.set(DATANET_PUBLIC, datanet, to=int(is_public))
        call.emit(DATANET_CREATED, datanet, call.sender, name, metadata_uri, modality, is_public)
        return datanet

    def setCurator(self, call: Call, datanet: int, account: Address, allowed: bool) -> None:  # noqa: N802
        records = Records(call.storage)
        _require_owner(call, records, datanet)
        if account == ZERO_ADDRESS:
            call.revert("curator is the zero address")
        records.set(DATANET_CURATOR, datanet, account, to=int(allowed))
        call.emit(CURATOR_SET, datanet, account, allowed)

    def contribute(self, call: Call, datanet: int, content_hash: bytes, uri: str, size: int) -> int:
        records, contributor = Records(call.storage), call.sender
        owner = _require_datanet(call, records, datanet)
        if content_hash == bytes(32):
            call.revert("content hash is zero")
        if size == 0:
            call.revert("size must be positive")
        is_member = contributor == owner or records.get(DATANET_CURATOR, datanet, contributor)
        if not records.get(DATANET_PUBLIC, datanet) and not is_member:
            call.revert(f"Datanet {datanet} is private: only its owner and curators contribute")
        penalties = records.get(PENALTIES, datanet, contributor)
        if penalties >= self.params.flag_penalty_threshold:
            call.revert(f"{hex_address(contributor)} has {penalties} penalties in Datanet "
                        f"{datanet} and may no longer contribute to it")  # fmt: skip
        existing = records.get(DATANET_HASH, datanet, content_hash)
        if existing:
            call.revert(f"content 0x{content_hash.hex()} is already contribution {existing} of "
                        f"Datanet {datanet}")  # fmt: skip
        day = call.timestamp // SECONDS_PER_DAY
        used_bytes = records.get(QUOTA_BYTES, datanet, contributor, day)
        if used_bytes + size > self.params.daily_contribution_bytes:
            call.revert(f"daily quota: {used_bytes} of {self.params.daily_contribution_bytes} "
                        f"bytes used today, {size} more do not fit")  # fmt: skip
        used_count = records.get(QUOTA_COUNT, datanet, contributor, day)
        if used_count >= self.params.daily_contribution_count:
            call.revert(f"daily quota: {used_count} contributions made today, the most allowed")
        contribution = records.add(CONTRIBUTION_COUNT, delta=1)
        records.set(CONTRIBUTION_DATANET, contribution, to=datanet)
        records.set_address(CONTRIBUTION_CONTRIBUTOR, contribution, to=contributor)
        records.set_hash(CONTRIBUTION_HASH, contribution, to=content_hash)
        records.set_string(CONTRIBUTION_URI, contribution, to=uri)
        records.set(CONTRIBUTION_SIZE, contribution, to=size)
        records.set(CONTRIBUTION_STATUS, contribution, to=ContributionStatus.PENDING)
        records.set(DATANET_HASH, datanet, content_hash, to=contribution)
        records.set(QUOTA_BYTES, datanet, contributor, day, to=used_bytes + size)
        records.set(QUOTA_COUNT, datanet, contributor, day, to=used_count + 1)
        call.emit(CONTRIBUTION_SUBMITTED, contribution, datanet, contributor, content_hash, uri,
                  size)  # fmt: skip
        return contribution

    def review(self, call: Call, contribution: int, accept: bool, quality: int) -> None:
        records = Records(call.storage)
        status = records.get(CONTRIBUTION_STATUS, contribution)
        if status == 0:
            call.revert(f"no contribution {contribution}")
        datanet = records.get(CONTRIBUTION_DATANET, contribution)
        _require_reviewer(call, records, datanet)
        if status != ContributionStatus.PENDING:
            call.revert(f"contribution {contribution} was already reviewed")
        if quality > MAX_QUALITY_SCORE:
            call.revert(f"quality score {quality} is above {MAX_QUALITY_SCORE}")
        records.set(CONTRIBUTION_QUALITY, contribution, to=quality)
        if accept:
            leaf = compute_leaf(records.get_hash(CONTRIBUTION_HASH, contribution))
            index = records.get(DATANET_ACCEPTED, datanet)
            if index >= MAX_LEAVES:
                call.revert(f"Datanet {datanet} holds {MAX_LEAVES} contributions, the most")
            insert_leaf(_Branch(records, datanet), index, leaf)
            records.set(CONTRIBUTION_LEAF, contribution, to=index)
            records.set(DATANET_ACCEPTED, datanet, to=index + 1)
        new_status = ContributionStatus.ACCEPTED if accept else ContributionStatus.REJECTED
        records.set(CONTRIBUTION_STATUS, contribution, to=new_status)
        call.emit(CONTRIBUTION_REVIEWED, contribution, datanet, call.sender, accept, quality)

    def publishVersion(self, call: Call, datanet: int) -> tuple[int, bytes]:  # noqa: N802
        records = Records(call.storage)
        _require_owner(call, records, datanet)
        size = records.get(DATANET_ACCEPTED, datanet)
        latest = records.get(DATANET_VERSION, datanet)
        if size == (records.get(VERSION_SIZE, datanet, latest) if latest else 0):
            call.revert(f"no contribution was accepted in Datanet {datanet} since "
                        + (f"version {latest}" if latest else "its creation"))  # fmt: skip
        root = compute_branch_root(_Branch(records, datanet), size)
        version = latest + 1
        records.set(DATANET_VERSION, datanet, to=version)
        records.set_hash(VERSION_ROOT, datanet, version, to=root)
        records.set(VERSION_SIZE, datanet, version, to=size)
        records.set(VERSION_BLOCK, datanet, version, to=call.block_number)
        call.emit(VERSION_PUBLISHED, datanet, version, root, size)
        return version, root

    def flag(self, call: Call, contribution: int, reason: str) -> None:
        records = Records(call.storage)
        if records.get(CONTRIBUTION_STATUS, contribution) == 0:
            call.revert(f"no contribution {contribution}")
        datanet = records.get(CONTRIBUTION_DATANET, contribution)
        _require_reviewer(call, records, datanet)
        if records.get(CONTRIBUTION_IS_FLAGGED, contribution):
            call.revert(f"contribution {contribution} is already flagged")
        contributor = records.get_address(CONTRIBUTION_CONTRIBUTOR, contribution)
        records.set(CONTRIBUTION_IS_FLAGGED, contribution, to=call.block_number)
        penalties = records.add(PENALTIES, datanet, contributor, delta=1)
        records.add(FLAGS, contributor, delta=1)
        call.emit(CONTRIBUTION_FLAGGED, contribution, datanet, contributor, call.sender, reason,
                  penalties)  # fmt: skip

    # --- views ----------------------------------------------------------------------------------

    def getDatanet(self, call: Call, datanet: int) -> tuple[Any, ...]:  # noqa: N802
        records = Records(call.storage)
        owner = _require_datanet(call, records, datanet)
        return (
            owner,
            records.get_string(DATANET_NAME, datanet),
            records.get_string(DATANET_URI, datanet),
            records.get(DATANET_MODALITY, datanet),
            bool(records.get(DATANET_PUBLIC, datanet)),
            records.get(DATANET_VERSION, datanet),
            records.get(DATANET_ACCEPTED, datanet),
        )

    def isCurator(self, call: Call, datanet: int, account: Address) -> bool:  # noqa: N802
        records = Records(call.storage)
        _require_datanet(call, records, datanet)
        return bool(records.get(DATANET_CURATOR, datanet, account))

    def getContribution(self, call: Call, contribution: int) -> tuple[Any, ...]:  # noqa: N802
        records = Records(call.storage)
        status = records.get(CONTRIBUTION_STATUS, contribution)
        if status == 0:
            call.revert(f"no contribution {contribution}")
        return (
            records.get(CONTRIBUTION_DATANET, contribution),
            records.get_address(CONTRIBUTION_CONTRIBUTOR, contribution),
            records.get_hash(CONTRIBUTION_HASH, contribution),
            records.get_string(CONTRIBUTION_URI, contribution),
            records.get(CONTRIBUTION_SIZE, contribution),
            status,
            records.get(CONTRIBUTION_QUALITY, contribution),
            bool(records.get(CONTRIBUTION_IS_FLAGGED, contribution)),
            records.get(CONTRIBUTION_LEAF, contribution),
        )

    def contributionByHash(self, call: Call, datanet: int, content_hash: bytes) -> int:  # noqa: N802
        return Records(call.storage).get(DATANET_HASH, datanet, content_hash)

    def getVersion(self, call: Call, datanet: int, version: int) -> tuple[bytes, int, int]:  # noqa: N802
        records = Records(call.storage)
        _require_version(call, records, datanet, version)
        return (
            records.get_hash(VERSION_ROOT, datanet, version),
            records.get(VERSION_SIZE, datanet, version),
            records.get(VERSION_BLOCK, datanet, version),
        )

    def verifyInclusion(  # noqa: N802
        self, call: Call, datanet: int, version: int, content_hash: bytes, proof: tuple[bytes, ...]
    ) -> bool:
        records = Records(call.storage)
        _require_version(call, records, datanet, version)
        root = records.get_hash(VERSION_ROOT, datanet, version)
        return verify_proof(proof, root, compute_leaf(content_hash))

    def penalties(self, call: Call, datanet: int, contributor: Address) -> int:
        return Records(call.storage).get(PENALTIES, datanet, contributor)


class _Branch:
    """A Datanet's incremental tree branch, in its records (`merkle.Branch`)."""

    def __init__(self, records: Records, datanet: int) -> None:
        self.records = records
        self.datanet = datanet

    def get_node(self, level: int) -> bytes:
        return self.records.get_hash(DATANET_BRANCH, self.datanet, level)

    def set_node(self, level: int, node: bytes) -> None:
        self.records.set_hash(DATANET_BRANCH, self.datanet, level, to=node)


def _require_datanet(call: Call, records: Records, datanet: int) -> Address:
    """The Datanet's owner; reverts when there is no such Datanet."""
    owner = records.get_address(DATANET_OWNER, datanet)
    if owner == ZERO_ADDRESS:
        call.revert(f"no Datanet {datanet}")
    return owner


def _require_owner(call: Call, records: Records, datanet: int) -> None:
    owner = _require_datanet(call, records, datanet)
    if call.sender != owner:
        call.revert(f"only the owner of Datanet {datanet} ({hex_address(owner)}) may do this")


def _require_reviewer(call: Call, records: Records, datanet: int) -> None:
    owner = records.get_address(DATANET_OWNER, datanet)
    if call.sender != owner and not records.get(DATANET_CURATOR, datanet, call.sender):
        call.revert(f"only the owner or a curator of Datanet {datanet} may review or flag")


def _require_version(call: Call, records: Records, datanet: int, version: int) -> None:
    latest = records.get(DATANET_VERSION, datanet)
    if not 1 <= version <= latest:
        call.revert(f"Datanet {datanet} has no version {version} (latest: {latest})")
