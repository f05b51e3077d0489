"""Double-sign evidence: its checks, and the slash, reward, burn and tombstone it causes.

Evidence is two encoded votes, checked as CometBFT checks `DuplicateVoteEvidence`:

1. both decode as votes, and both carry this chain's id;
2. same validator, height, round and kind, and different block hashes (a vote for nil differs
   from a vote for a block);
3. both signatures are valid signatures of that validator;
4. the height is before the block that carries the evidence, and the evidence has not expired:
   as CometBFT does, it is refused only when it is older than both `evidence_max_age_blocks`
   (`MaxAgeNumBlocks`) and `evidence_max_age_seconds` (`MaxAgeDuration`), and, whatever its age in
   time, from `unbonding_blocks` blocks on (the stake unbonded since the offence may have been
   withdrawn by then, so the slash could not be taken);
5. the validator was in the active set that signed that height;
6. that (validator, height) offence was not processed before, and the validator is not already
   tombstoned (a validator is slashed for double signing once).

The age in time is the evidence block's timestamp minus the timestamp of the first epoch
boundary block at or after the offence height (`EPOCH_TIME`, recorded by the hooks; the current
block's own timestamp while that boundary is not yet past). Timestamps never decrease, so this
is at most the true age: evidence CometBFT would accept is never refused, and evidence up to one
epoch's duration older may still be accepted.

The slash is `double_sign_slash_bps` of the stake bonded with the validator at the offence height
(its stake history, `bonds.get_stake_at`), not of the stake bonded when the evidence
arrives: stake delegated since is not punished, and stake unbonded since is. As in Cosmos's
`x/staking`, the unbonding entries made from the validator at or after the offence height stay
slashable: each gives `double_sign_slash_bps` of its amount (all of them together at most the
slash). The rest of the slash comes from the bonded stake (self-stake and every delegation alike),
as far as it goes. `evidence_reward_bps` of the total goes to the submitter at once, the rest is
burned: it leaves the supply. The validator is jailed for ever (tombstoned): it leaves the
active set at the next epoch boundary and `unjail` refuses it.
"""

from dataclasses import dataclass

from openledger.consensus.errors import ConsensusError, InvalidVote
from openledger.consensus.messages import Vote
from openledger.consensus.signing import validate_vote_signature
from openledger.consensus.staking.bonds import get_stake_at, set_tokens
from openledger.consensus.staking.jail import jail
from openledger.consensus.staking.ledger import (
    EPOCH_TIME,
    OFFENCE,
    TOKENS,
    TOMBSTONE,
    TOMBSTONE_BASE,
    TOMBSTONE_CUT,
    TOMBSTONE_FIRST,
    TOMBSTONE_LIMIT,
    UNBONDING_COUNT,
    UNBONDING_HEIGHT,
    UNBONDING_TOTAL,
    Ledger,
    find_last_at_most,
)
from openledger.consensus.staking.rewards import BPS
from openledger.consensus.staking.sets import was_in_active_set
from openledger.genesis.model import StakingParams
from openledger.genesis.types import Address

FOREVER = 2**64 - 1
"""`jailedUntil` of a tombstoned validator."""


class InvalidEvidence(ConsensusError):
    """Double-sign evidence that does not prove a punishable offence."""

    subject = "invalid evidence"


@dataclass(frozen=True, slots=True)
class Offence:
    """A proven double sign."""

    validator: Address
    """The validator that signed both votes."""
    height: int
    """The height it equivocated at."""
    reads: int
    """Storage words read to check membership (charged as gas)."""


@dataclass(frozen=True, slots=True)
class DoubleSignSlash:
    """What a double-sign slash takes, computed before anything is written."""

    offence: Offence
    """The offence punished."""
    height: int
    """The block that carries the evidence."""
    stake: int
    """Wei bonded with the validator at the offence height: the base of the slash."""
    bonded: int
    """Wei taken from the bonded stake."""
    unbonding_first: int
    """First position of the validator's unbonding list cut."""
    unbonding_limit: int
    """First position not cut (entries made after the evidence)."""
    unbonding_base: int
    """Wei of the entries cut."""
    unbonding_cut: int
    """Wei taken from them together."""
    reward: int
    """Wei paid to the submitter."""
    reads: int
    """Storage words read to find the unbonding entries (charged as gas)."""

    @property
    def total(self) -> int:
        """Wei slashed in all."""
        return self.bonded + self.unbonding_cut

    @property
    def burned(self) -> int:
        """Wei that leave the supply."""
        return self.total - self.reward


def verify_double_sign(
    ledger: Ledger,
    params: StakingParams,
    encoded_a: bytes,
    encoded_b: bytes,
    chain_id: int,
    height: int,
    timestamp: int,
) -> Offence:
    """Check evidence submitted in block `height` with timestamp `timestamp`; raise
    `InvalidEvidence` with the reason."""
    vote_a = _decode("voteA", encoded_a)
    vote_b = _decode("voteB", encoded_b)
    for name, vote in (("voteA", vote_a), ("voteB", vote_b)):
        if vote.chain_id != chain_id:
            raise InvalidEvidence(
                f"{name} is for chain id {vote.chain_id}, this chain is {chain_id}"
            )
    for field in ("validator", "height", "round", "kind"):
        if getattr(vote_a, field) != getattr(vote_b, field):
            raise InvalidEvidence(f"the votes differ in {field}: they are not one equivocation")
    if vote_a.block_hash == vote_b.block_hash:
        raise InvalidEvidence("the votes are for the same block: that is not an equivocation")
    for name, vote in (("voteA", vote_a), ("voteB", vote_b)):
        try:
            validate_vote_signature(vote)
        except InvalidVote as error:
            raise InvalidEvidence(f"{name} signature: {error.problem}") from None
    validator, offence_height = vote_a.validator, int(vote_a.height)
    label = f"0x{validator.hex()}"
    if offence_height >= height:
        raise InvalidEvidence(f"height {offence_height} is not before this block ({height})")
    _check_age(ledger, params, offence_height, height, timestamp)
    if ledger.get(OFFENCE, validator, offence_height):
        raise InvalidEvidence(
            f"the offence of {label} at height {offence_height} was already slashed"
        )
    if ledger.is_tombstoned(validator):
        raise InvalidEvidence(f"{label} is already tombstoned for double signing")
    member, reads = was_in_active_set(ledger, validator, offence_height)
    if not member:
        raise InvalidEvidence(f"{label} was not in the active set at height {offence_height}")
    return Offence(validator, offence_height, reads)


def _check_age(
    ledger: Ledger, params: StakingParams, offence_height: int, height: int, timestamp: int
) -> None:
    blocks = height - offence_height
    if blocks >= params.unbonding_blocks:
        raise InvalidEvidence(
            f"height {offence_height} is {blocks} blocks old, not less than unbondingBlocks "
            f"({params.unbonding_blocks}): the stake unbonded since may have been withdrawn"
        )
    if blocks <= params.evidence_max_age_blocks:
        return
    length = params.epoch_length
    boundary = -(-offence_height // length) * length
    # The boundary's timestamp bounds the offence's from above (a boundary not yet recorded:
    # this block's own).
    offence_time = (
        (ledger.get(EPOCH_TIME, boundary) or timestamp) if boundary < height else timestamp
    )
    seconds = timestamp - offence_time
    if seconds > params.evidence_max_age_seconds:
        raise InvalidEvidence(
            f"height {offence_height} is more than {params.evidence_max_age_blocks} blocks "
            f"({blocks}) and more than {params.evidence_max_age_seconds} seconds ({seconds}) old"
        )


def compute_double_sign_slash(
    ledger: Ledger, params: StakingParams, offence: Offence, height: int
) -> DoubleSignSlash:
    """What slashing `offence` in block `height` takes and pays (reads only)."""
    validator = offence.validator
    stake, stake_reads = get_stake_at(ledger, validator, offence.height)
    due = stake * params.double_sign_slash_bps // BPS
    count = ledger.get(UNBONDING_COUNT, validator)
    last_before, reads = find_last_at_most(
        lambda index: ledger.get(UNBONDING_HEIGHT, validator, index), count, offence.height - 1
    )
    first = last_before + 1
    base = 0
    if first < count:
        before = ledger.get(UNBONDING_TOTAL, validator, first - 1) if first else 0
        base = ledger.get(UNBONDING_TOTAL, validator, count - 1) - before
    cut = min(due, base * params.double_sign_slash_bps // BPS)
    bonded = min(due - cut, ledger.get(TOKENS, validator))
    reward = (bonded + cut) * params.evidence_reward_bps // BPS
    return DoubleSignSlash(
        offence, height, stake, bonded, first, count, base, cut, reward, reads + stake_reads
    )


def apply_double_sign_slash(ledger: Ledger, slash: DoubleSignSlash) -> None:
    """Record the slash and tombstone the validator (the caller pays and burns the wei)."""
    validator = slash.offence.validator
    if slash.bonded:
        set_tokens(ledger, validator, ledger.get(TOKENS, validator) - slash.bonded, slash.height)
    if slash.unbonding_cut:
        ledger.set(TOMBSTONE_FIRST, validator, to=slash.unbonding_first)
        ledger.set(TOMBSTONE_LIMIT, validator, to=slash.unbonding_limit)
        ledger.set(TOMBSTONE_BASE, validator, to=slash.unbonding_base)
        ledger.set(TOMBSTONE_CUT, validator, to=slash.unbonding_cut)
    ledger.set(OFFENCE, validator, slash.offence.height, to=1)
    ledger.set(TOMBSTONE, validator, to=slash.offence.height + 1)
    jail(ledger, validator, FOREVER)


def _decode(name: str, encoded: bytes) -> Vote:
    try:
        return Vote.decode(encoded)
    except InvalidVote as error:
        raise InvalidEvidence(f"{name} is not a vote: {error.problem}") from None
