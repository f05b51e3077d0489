"""The validator's signer, which never signs twice, and the persisted lock.

Like CometBFT's `priv_validator_state.json`, the last signed (height, round, step) is written to
disk with fsync **before** the signature leaves this module, so no crash, restart or bug of the
consensus host can make the validator sign two different messages for one step:

- a request for a later (height, round, step) is signed and recorded;
- a request for the same step and the same block returns the signature already made;
- anything else (an earlier step, or the same step for another block) is refused.

The lock (locked and valid value, with their rounds) is persisted the same way whenever it
changes, so that a restarted validator resumes with it and cannot prevote against its own
precommit (the "amnesia" fault). The bodies of the locked and valid blocks, with their parent
certificates and the prevotes that locked them, go into the same synced write (CometBFT keeps them
in its WAL): without them a restarted network could be locked on a block nobody has, and halt.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import rlp

from openledger.consensus.messages import Proposal, Vote, VoteKind
from openledger.consensus.signing import compute_signer_address, sign_proposal, sign_vote
from openledger.genesis.types import Address, BlockNumber, ChainId, Hash32, Round
from openledger.node.p2p.framing import MAX_FRAME_SIZE
from openledger.state.db import LevelDB
from openledger.state.schema import consensus_key

log = logging.getLogger("openledger.safety")

LAST_SIGNED_KEY = consensus_key("last-signed")
LOCK_KEY = consensus_key("lock")
LOCK_BLOCKS_KEY = consensus_key("lock-blocks")


class SignStep(IntEnum):
    """The order of what a validator signs within one round."""

    PROPOSAL = 1
    PREVOTE = 2
    PRECOMMIT = 3


@dataclass(frozen=True, slots=True)
class LockRecord:
    """The consensus lock of a height, as persisted."""

    height: BlockNumber
    """The height it belongs to."""
    round: Round
    """The round the machine was in."""
    locked_value: Hash32 | None
    """The locked block, if any."""
    locked_round: Round
    """Its round, -1 if none."""
    valid_value: Hash32 | None
    """The valid block, if any."""
    valid_round: Round
    """Its round, -1 if none."""


@dataclass(frozen=True, slots=True)
class LockedBlock:
    """A locked or valid block as persisted with the lock, enough to execute it again."""

    block: bytes
    """The RLP block."""
    parent_certificate: bytes
    """The parent's encoded commit certificate, empty for block 1."""
    polka: tuple[bytes, ...]
    """The encoded prevotes of the round it was locked (or made valid) in."""

    @property
    def size(self) -> int:
        """Bytes it takes, about."""
        return len(self.block) + len(self.parent_certificate) + sum(map(len, self.polka))


class SafeSigner:
    """Signs proposals and votes with the validator key, refusing anything that could double sign."""

    def __init__(self, db: LevelDB, private_key: bytes, chain_id: ChainId) -> None:
        self._db = db
        self._key = private_key
        self.chain_id = chain_id
        self.address: Address = compute_signer_address(private_key)
        self._last = self._load_last()

    @property
    def last_signed(self) -> tuple[int, int, int] | None:
        """(height, round, step) of the last signature, if any."""
        return None if self._last is None else self._last[:3]

    def sign_vote(
        self, height: BlockNumber, round: Round, kind: VoteKind, block_hash: bytes
    ) -> Vote | None:
        """The signed vote, or None when signing it could be a double sign."""
        step = SignStep.PREVOTE if kind is VoteKind.PREVOTE else SignStep.PRECOMMIT
        signed = self._sign_once(
            height, round, step, block_hash,
            lambda: sign_vote(
                self._key, chain_id=self.chain_id, height=height, round=round, kind=kind,
                block_hash=block_hash,
            ).encode(),
        )  # fmt: skip
        return None if signed is None else Vote.decode(signed)

    def sign_proposal(
        self, height: BlockNumber, round: Round, block_hash: Hash32, pol_round: Round
    ) -> Proposal | None:
        """The signed proposal, or None when signing it could be a double sign."""
        signed = self._sign_once(
            height, round, SignStep.PROPOSAL, block_hash,
            lambda: sign_proposal(
                self._key, chain_id=self.chain_id, height=height, round=round,
                block_hash=block_hash, pol_round=pol_round,
            ).encode(),
        )  # fmt: skip
        return None if signed is None else Proposal.decode(signed)

    def _sign_once(
        self, height: int, round: int, step: SignStep, block_hash: bytes, sign: Callable[[], bytes]
    ) -> bytes | None:
        """The encoded message `sign` makes, recorded (fsync) before it is returned; the one
        already made for this step and block; or None when signing could be a double sign."""
        previous = self._previous_signature(height, round, step, block_hash)
        if previous is not None:
            return previous
        if not self._may_sign(height, round, step, block_hash):
            return None
        message = sign()
        self._record(height, round, step, block_hash, message)
        return message

    def save_lock(self, lock: LockRecord, blocks: tuple[LockedBlock, ...] = ()) -> None:
        """Persist the lock with its blocks (one fsync) before the votes that depend on it are
        sent. A block over the p2p frame size (no peer could have sent it) is left out."""
        kept = [b for b in blocks if b.size <= MAX_FRAME_SIZE]
        if len(kept) < len(blocks):
            log.warning("not persisting a locked block over %d bytes", MAX_FRAME_SIZE)
        self._db.write(
            {
                LOCK_BLOCKS_KEY: rlp.encode(
                    [[b.block, b.parent_certificate, list(b.polka)] for b in kept]
                ),
                LOCK_KEY: rlp.encode(
                    [
                        lock.height,
                        lock.round,
                        lock.locked_value or b"",
                        lock.locked_round + 1,
                        lock.valid_value or b"",
                        lock.valid_round + 1,
                    ]
                ),
            },
            sync=True,
        )

    def load_lock(self) -> LockRecord | None:
        """The persisted lock, if any."""
        encoded = self._db.get_or_none(LOCK_KEY)
        if encoded is None:
            return None
        height, round, locked, locked_round, valid, valid_round = rlp.decode(encoded)
        return LockRecord(
            BlockNumber(_int(height)),
            Round(_int(round)),
            Hash32(locked) if locked else None,
            Round(_int(locked_round) - 1),
            Hash32(valid) if valid else None,
            Round(_int(valid_round) - 1),
        )

    def load_lock_blocks(self) -> tuple[LockedBlock, ...]:
        """The blocks persisted with the lock (none if the record is missing)."""
        encoded = self._db.get_or_none(LOCK_BLOCKS_KEY)
        if encoded is None:
            return ()
        return tuple(
            LockedBlock(block, certificate, tuple(polka))
            for block, certificate, polka in rlp.decode(encoded)
        )

    def _may_sign(self, height: int, round: int, step: SignStep, block_hash: bytes) -> bool:
        if self._last is None or (height, round, step) > self._last[:3]:
            return True
        log.warning(
            "refusing to sign %s for 0x%s at height %d round %d: already signed up to %s",
            step.name.lower(), block_hash.hex()[:16], height, round, self._last[:3],
        )  # fmt: skip
        return False

    def _previous_signature(
        self, height: int, round: int, step: SignStep, block_hash: bytes
    ) -> bytes | None:
        if self._last is not None and self._last[:4] == (height, round, int(step), block_hash):
            return self._last[4]
        return None

    def _record(
        self, height: int, round: int, step: SignStep, block_hash: bytes, message: bytes
    ) -> None:
        record = (height, round, int(step), block_hash, message)
        self._db.write({LAST_SIGNED_KEY: rlp.encode(list(record))}, sync=True)
        self._last = record

    def _load_last(self) -> tuple[int, int, int, bytes, bytes] | None:
        encoded = self._db.get_or_none(LAST_SIGNED_KEY)
        if encoded is None:
            return None
        height, round, step, block_hash, message = rlp.decode(encoded)
        return _int(height), _int(round), _int(step), block_hash, message


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big")
