"""Shared test data for the consensus tests: keys, validator sets, votes, and a table runner.

Tables follow malachite's style: each row is (description, event, expected actions, expected
state fields); `run_table` applies the rows in order and names the failing row.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from eth_hash.auto import keccak

from openledger.consensus.events import Action, Event, TimeoutConfig, TimeoutKind, VoteReceived
from openledger.consensus.machine import resume_height, step
from openledger.consensus.messages import NIL, CommitCertificate, Proposal, Vote, VoteKind
from openledger.consensus.signing import compute_signer_address
from openledger.consensus.state import ConsensusState
from openledger.consensus.validators import Validator, ValidatorSet
from openledger.genesis.types import Address, BlockNumber, ChainId, Hash32, Round

CHAIN_ID = ChainId(1337)
ETHER = 10**18
DUMMY_SIGNATURE = b"\x00" * 65
"""The machine never checks signatures (the host does), so its tests use this placeholder."""


def _make_keys(count: int) -> list[tuple[Address, bytes]]:
    keys = [keccak(f"openledger test validator {i}".encode()) for i in range(count)]
    return sorted(((compute_signer_address(key), key) for key in keys), key=lambda pair: pair[0])


_KEYED = _make_keys(5)
ADDRESSES: tuple[Address, ...] = tuple(address for address, _ in _KEYED[:4])
"""Four validator addresses in ascending order: V0 < V1 < V2 < V3."""
KEYS: dict[Address, bytes] = {address: key for address, key in _KEYED}
"""The private key of each address (including the outsider)."""
V0, V1, V2, V3 = ADDRESSES
OUTSIDER: Address = _KEYED[4][0]
"""An address with a key that is not in any test validator set."""

BLOCK_B = Hash32(keccak(b"block B"))
BLOCK_C = Hash32(keccak(b"block C"))
BLOCK_D = Hash32(keccak(b"block D"))
H1 = BlockNumber(1)
PROPOSE, PREVOTE, PRECOMMIT, COMMIT = (
    TimeoutKind.PROPOSE,
    TimeoutKind.PREVOTE,
    TimeoutKind.PRECOMMIT,
    TimeoutKind.COMMIT,
)


def make_set(powers: Sequence[int], start_height: int = 1) -> ValidatorSet:
    """A set of the first `len(powers)` test validators with these powers."""
    validators = (
        Validator(address, power) for address, power in zip(ADDRESSES, powers, strict=False)
    )
    return ValidatorSet.create(validators, BlockNumber(start_height))


EQUAL_SET = make_set([1, 1, 1, 1])
"""Four validators of power 1: quorum 3, more than a third 2; proposers V0, V1, V2, V3, V0..."""


def prevote(validator: Address, block_hash: bytes, round: int = 0, height: int = 1) -> Vote:
    """An unsigned (placeholder-signed) prevote."""
    return _vote(VoteKind.PREVOTE, validator, block_hash, round, height)


def precommit(validator: Address, block_hash: bytes, round: int = 0, height: int = 1) -> Vote:
    """An unsigned (placeholder-signed) precommit."""
    return _vote(VoteKind.PRECOMMIT, validator, block_hash, round, height)


def proposal(
    proposer: Address, block_hash: Hash32, round: int = 0, pol_round: int = -1, height: int = 1
) -> Proposal:
    """An unsigned (placeholder-signed) proposal."""
    return Proposal(
        chain_id=CHAIN_ID,
        height=BlockNumber(height),
        round=Round(round),
        block_hash=block_hash,
        pol_round=Round(pol_round),
        proposer=proposer,
        signature=DUMMY_SIGNATURE,
    )


def _vote(kind: VoteKind, validator: Address, block_hash: bytes, round: int, height: int) -> Vote:
    return Vote(
        chain_id=CHAIN_ID,
        height=BlockNumber(height),
        round=Round(round),
        kind=kind,
        block_hash=block_hash,
        validator=validator,
        signature=DUMMY_SIGNATURE,
    )


def certificate(round: int, block_hash: Hash32, voters: Sequence[Address]) -> CommitCertificate:
    """The certificate the machine builds from these validators' precommits at height 1."""
    votes = tuple(precommit(v, block_hash, round) for v in sorted(voters))
    return CommitCertificate(H1, Round(round), block_hash, votes)


def resumed(
    me: Address,
    round: int,
    locked: tuple[Hash32 | None, int] = (None, -1),
    valid: tuple[Hash32 | None, int] = (None, -1),
) -> ConsensusState:
    """A machine of `EQUAL_SET` restarted at height 1, `round`, with this lock and valid value."""
    state, _ = resume_height(
        H1,
        EQUAL_SET,
        me,
        TimeoutConfig(),
        round=Round(round),
        locked_value=locked[0],
        locked_round=Round(locked[1]),
        valid_value=valid[0],
        valid_round=Round(valid[1]),
    )
    return state


@dataclass(frozen=True)
class Row:
    """One step of a table: feed `event`, expect exactly `actions`, then these state fields."""

    description: str
    event: Event
    actions: tuple[Action, ...] = ()
    state: Mapping[str, object] = field(default_factory=dict)


def run_table(state: ConsensusState, rows: Sequence[Row]) -> ConsensusState:
    """Apply each row's event in order; fail naming the first row that disagrees."""
    for number, row in enumerate(rows):
        state, actions = step(state, row.event)
        where = f"row {number} ({row.description})"
        if actions != row.actions:
            raise AssertionError(
                f"{where}: actions differ\n expected {row.actions}\n got      {actions}"
            )
        for name, expected in row.state.items():
            got = getattr(state, name)
            if got != expected:
                raise AssertionError(f"{where}: state.{name} is {got!r}, expected {expected!r}")
    return state


def votes(kind: str, block_hash: bytes, round: int, *validators: Address) -> list[Row]:
    """Rows delivering one `kind` ("prevote" or "precommit") vote each, expected to do nothing."""
    make = prevote if kind == "prevote" else precommit
    return [
        Row(f"{v.hex()[:6]} {kind}s in round {round}", VoteReceived(make(v, block_hash, round)))
        for v in validators
    ]


__all__ = [
    "ADDRESSES",
    "BLOCK_B",
    "BLOCK_C",
    "BLOCK_D",
    "CHAIN_ID",
    "COMMIT",
    "DUMMY_SIGNATURE",
    "EQUAL_SET",
    "ETHER",
    "H1",
    "KEYS",
    "NIL",
    "OUTSIDER",
    "PRECOMMIT",
    "PREVOTE",
    "PROPOSE",
    "V0",
    "V1",
    "V2",
    "V3",
    "Row",
    "certificate",
    "make_set",
    "precommit",
    "prevote",
    "proposal",
    "resumed",
    "run_table",
    "votes",
]
