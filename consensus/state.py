"""The state of the consensus machine for one height, and the values it is made of.

A `ConsensusState` is a frozen value: `machine.step` returns a new one for every event, so a
test (or a debugger) can keep any state and compare it with another. It holds the paper's
per-process variables (`h_p`, `round_p`, `step_p`, `lockedValue_p`, `lockedRound_p`,
`validValue_p`, `validRound_p`, `decision_p`) and the messages received for the height. It has
no behaviour beyond a derived property; the transitions live in `machine.py`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum

from openledger.consensus.events import TimeoutConfig
from openledger.consensus.messages import Proposal
from openledger.consensus.tally import VoteTally
from openledger.consensus.validators import ValidatorSet
from openledger.genesis.types import Address, BlockNumber, Hash32, Round


class Step(IntEnum):
    """The step of a round (`step_p` of the paper), plus COMMIT once the height is decided."""

    PROPOSE = 1
    PREVOTE = 2
    PRECOMMIT = 3
    COMMIT = 4


class Trigger(Enum):
    """The rules that may fire only once per round."""

    PROPOSED = "lines 16-19: this node proposed in the round"
    PREVOTE_TIMEOUT = "line 34: prevote timeout armed"
    POLKA_VALUE = "line 36: polka for the round's proposal seen"
    PRECOMMIT_TIMEOUT = "line 47: precommit timeout armed"


@dataclass(frozen=True, slots=True)
class ReceivedProposal:
    """A proposal of this height from the proposer of its round, and the host's verdict."""

    proposal: Proposal
    """The signed proposal."""

    valid: bool
    """Whether the proposed block executed correctly (the paper's valid(v))."""


@dataclass(frozen=True, slots=True)
class ConsensusState:
    """Everything the machine knows about the height it is deciding. Never mutated."""

    height: BlockNumber
    """The height being decided (`h_p`)."""

    round: Round
    """The current round (`round_p`)."""

    step: Step
    """The step of the current round (`step_p`), COMMIT once decided."""

    validators: ValidatorSet
    """The validator set of this height."""

    me: Address | None
    """This node's validator address, None for a full node."""

    config: TimeoutConfig
    """The timeouts."""

    locked_value: Hash32 | None
    """The block this node precommitted and must not vote against (`lockedValue_p`)."""

    locked_round: Round
    """The round of that lock, -1 if none (`lockedRound_p`)."""

    valid_value: Hash32 | None
    """The latest block seen with a polka, proposed again when we propose (`validValue_p`)."""

    valid_round: Round
    """The round of that polka, -1 if none (`validRound_p`)."""

    tally: VoteTally
    """The votes of this height."""

    proposals: Mapping[Round, ReceivedProposal]
    """The proposal of each round received so far (at most one per round)."""

    fired: frozenset[Trigger]
    """The once-per-round rules that already fired in the current round."""

    decision: Hash32 | None
    """The decided block (`decision_p[h_p]`), once step is COMMIT."""

    @property
    def is_signer(self) -> bool:
        """Whether this node is a member of the set, and so proposes and votes."""
        return self.me is not None and self.validators.is_member(self.me)
