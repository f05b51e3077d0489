"""The errors the consensus folder raises on purpose.

Every error carries `problem`, one sentence that says what is wrong and, where it helps, what
the caller should do about it. Decoding, signature checks and certificate verification raise
these and nothing else, so the node loop can catch `ConsensusError` at its edge and drop (or
penalise the sender of) a bad message without crashing.
"""

from openledger.genesis.errors import OpenLedgerError


class ConsensusError(OpenLedgerError):
    """Base class of the consensus errors; also raised when the host misuses the machine."""

    subject = "consensus"

    def __init__(self, problem: str) -> None:
        super().__init__(f"{self.subject}: {problem}")
        self.problem = problem


class InvalidVote(ConsensusError):
    """A vote is malformed, badly encoded or badly signed."""

    subject = "invalid vote"


class InvalidProposal(ConsensusError):
    """A proposal is malformed, badly encoded or badly signed."""

    subject = "invalid proposal"


class InvalidCertificate(ConsensusError):
    """A commit certificate is malformed or does not prove that the block was committed."""

    subject = "invalid commit certificate"


class InvalidValidatorSet(ConsensusError):
    """A validator set breaks an invariant (empty, unsorted, duplicate or powerless member)."""

    subject = "invalid validator set"
