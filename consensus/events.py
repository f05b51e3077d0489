"""The vocabulary of the consensus state machine: the events it takes, the actions it asks for.

Both are closed unions of frozen dataclasses. The host (the node loop) turns network messages,
timers and block execution into events, and performs actions: it builds and signs blocks and
votes (persisting each signed vote with fsync before broadcasting it), arms timers, commits
decided blocks and submits evidence. The machine itself does no I/O; see `machine.py`.

Contract for the host:

- `ProposalReceived` and `VoteReceived` carry messages whose signature the host has checked (and,
  for votes, whose signer is a member); `valid` is the result of executing the proposed block.
- What the host signs because of `SignProposal` / `SignVote` it feeds back to the machine as
  `ProposalReceived(valid=True)` / `VoteReceived`, just like a peer's message.
- After `Decide`, the machine waits for `StartHeight` of a later height; it asks for a
  `COMMIT` timeout (`TimeoutConfig.commit_ms`) after which the host should send it. The machine
  itself ignores `TimeoutFired(COMMIT, ...)`.
"""

from dataclasses import dataclass
from enum import Enum

from openledger.consensus.errors import ConsensusError
from openledger.consensus.messages import CommitCertificate, Proposal, Vote, VoteKind
from openledger.consensus.validators import ValidatorSet
from openledger.genesis.types import Address, BlockNumber, Hash32, Round


class TimeoutKind(Enum):
    """The timers of a round, and the pause after a commit."""

    PROPOSE = "propose"
    PREVOTE = "prevote"
    PRECOMMIT = "precommit"
    COMMIT = "commit"


@dataclass(frozen=True, slots=True)
class TimeoutConfig:
    """How long each timer waits; round `r` waits `base + delta * r` (CometBFT's defaults).

    Correctness does not depend on these values, liveness does: they should be the same on every
    validator and long enough for a proposal and two rounds of votes to cross the network.
    """

    propose_ms: int = 3000
    """Wait for the proposal of round 0."""

    propose_delta_ms: int = 500
    """Added to `propose_ms` per round."""

    prevote_ms: int = 1000
    """Wait, after more than 2/3 of the power prevoted for different things, in round 0."""

    prevote_delta_ms: int = 500
    """Added to `prevote_ms` per round."""

    precommit_ms: int = 1000
    """Wait, after more than 2/3 of the power precommitted without a decision, in round 0."""

    precommit_delta_ms: int = 500
    """Added to `precommit_ms` per round."""

    commit_ms: int = 1000
    """Pause after a decision before the next height starts (collects late precommits)."""

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConsensusError(
                    f"timeout {name} must be a whole number of ms >= 0, got {value!r}"
                )

    def compute_delay_ms(self, kind: TimeoutKind, round: Round) -> int:
        """The delay of the `kind` timer in `round`."""
        match kind:
            case TimeoutKind.PROPOSE:
                return self.propose_ms + self.propose_delta_ms * round
            case TimeoutKind.PREVOTE:
                return self.prevote_ms + self.prevote_delta_ms * round
            case TimeoutKind.PRECOMMIT:
                return self.precommit_ms + self.precommit_delta_ms * round
            case TimeoutKind.COMMIT:
                return self.commit_ms


# Events --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartHeight:
    """Start deciding `height` (after the previous height was committed or synced)."""

    height: BlockNumber
    """The height to decide; ignored unless above the machine's current height."""

    validators: ValidatorSet
    """The validator set of that height."""

    me: Address | None
    """This node's validator address, or None for a full node that follows but never signs."""


@dataclass(frozen=True, slots=True)
class ProposalReceived:
    """A proposal arrived (from a peer or from ourselves); its signature is already checked."""

    proposal: Proposal
    """The signed proposal."""

    valid: bool
    """Whether the proposed block executed correctly on top of our chain (the paper's valid(v))."""


@dataclass(frozen=True, slots=True)
class VoteReceived:
    """A vote arrived (from a peer or from ourselves); signature and membership are checked."""

    vote: Vote
    """The signed vote."""


@dataclass(frozen=True, slots=True)
class TimeoutFired:
    """A timer armed by `ScheduleTimeout` expired."""

    kind: TimeoutKind
    """Which timer."""

    height: BlockNumber
    """The height it was armed for."""

    round: Round
    """The round it was armed for."""


@dataclass(frozen=True, slots=True)
class ProposalBlockReady:
    """The host built the block that `BuildProposal` asked for."""

    height: BlockNumber
    """The height of the request."""

    round: Round
    """The round of the request."""

    block_hash: Hash32
    """The hash of the built block, which the host keeps to serve to peers."""


Event = StartHeight | ProposalReceived | VoteReceived | TimeoutFired | ProposalBlockReady
"""Everything the machine reacts to."""


# Actions -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildProposal:
    """Build a block for (height, round) from the mempool and answer `ProposalBlockReady`."""

    height: BlockNumber
    """The height to build."""

    round: Round
    """The round we propose in."""


@dataclass(frozen=True, slots=True)
class SignProposal:
    """Sign, persist and broadcast a proposal of `block_hash`, then feed it back."""

    height: BlockNumber
    """The proposal's height."""

    round: Round
    """The proposal's round."""

    block_hash: Hash32
    """The proposed block."""

    pol_round: Round
    """The round of the polka for that block we rely on, or -1."""


@dataclass(frozen=True, slots=True)
class SignVote:
    """Persist (fsync), sign and broadcast a vote, then feed it back as `VoteReceived`."""

    height: BlockNumber
    """The vote's height."""

    round: Round
    """The vote's round."""

    kind: VoteKind
    """Prevote or precommit."""

    block_hash: bytes
    """The block voted for, or `NIL` (empty)."""


@dataclass(frozen=True, slots=True)
class ScheduleTimeout:
    """Arm a timer that sends `TimeoutFired(kind, height, round)` after `delay_ms`."""

    kind: TimeoutKind
    """Which timer."""

    height: BlockNumber
    """The height it is for."""

    round: Round
    """The round it is for."""

    delay_ms: int
    """How long to wait, in milliseconds."""


@dataclass(frozen=True, slots=True)
class Decide:
    """`block_hash` is committed at `height`: store it with its certificate, then move on."""

    height: BlockNumber
    """The decided height."""

    round: Round
    """The round whose precommits committed the block."""

    block_hash: Hash32
    """The committed block."""

    certificate: CommitCertificate
    """More than 2/3 of the power's signed precommits for the block, sorted by validator."""


@dataclass(frozen=True, slots=True)
class ReportEquivocation:
    """A validator signed two different votes for one (height, round, kind): submit evidence."""

    vote_a: Vote
    """The vote counted first."""

    vote_b: Vote
    """The conflicting vote."""


Action = BuildProposal | SignProposal | SignVote | ScheduleTimeout | Decide | ReportEquivocation
"""Everything the machine asks the host to do."""
