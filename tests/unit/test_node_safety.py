"""The validator's signer never signs twice for one step, across restarts of its database."""

from pathlib import Path

from openledger.consensus.messages import VoteKind
from openledger.consensus.signing import validate_proposal_signature, validate_vote_signature
from openledger.genesis.types import BlockNumber, ChainId, Hash32, Round
from openledger.node.p2p.framing import MAX_FRAME_SIZE
from openledger.node.safety import LockedBlock, LockRecord, SafeSigner
from openledger.state.db import LevelDB

KEY = bytes.fromhex("11" * 32)
CHAIN = ChainId(1337)
BLOCK_A = Hash32(b"\xaa" * 32)
BLOCK_B = Hash32(b"\xbb" * 32)
H, R = BlockNumber(5), Round(0)


def test_the_same_step_and_block_returns_the_signature_already_made(tmp_path: Path) -> None:
    signer = SafeSigner(LevelDB(tmp_path / "db"), KEY, CHAIN)
    first = signer.sign_vote(H, R, VoteKind.PREVOTE, BLOCK_A)
    assert first is not None
    validate_vote_signature(first)
    assert signer.sign_vote(H, R, VoteKind.PREVOTE, BLOCK_A) == first
    assert signer.last_signed == (H, R, 2)


def test_another_block_or_an_earlier_step_is_refused(tmp_path: Path) -> None:
    signer = SafeSigner(LevelDB(tmp_path / "db"), KEY, CHAIN)
    assert signer.sign_vote(H, R, VoteKind.PRECOMMIT, BLOCK_A) is not None
    assert signer.sign_vote(H, R, VoteKind.PRECOMMIT, BLOCK_B) is None
    assert signer.sign_vote(H, R, VoteKind.PREVOTE, BLOCK_A) is None
    assert signer.sign_proposal(H, R, BLOCK_A, Round(-1)) is None
    later = signer.sign_proposal(H, Round(1), BLOCK_B, Round(0))
    assert later is not None
    validate_proposal_signature(later)
    assert later.proposer == signer.address


def test_the_record_survives_a_restart(tmp_path: Path) -> None:
    db = LevelDB(tmp_path / "db")
    proposal = SafeSigner(db, KEY, CHAIN).sign_proposal(H, R, BLOCK_A, Round(-1))
    db.close()
    reopened = SafeSigner(LevelDB(tmp_path / "db"), KEY, CHAIN)
    assert reopened.last_signed == (H, R, 1)
    assert reopened.sign_proposal(H, R, BLOCK_A, Round(-1)) == proposal
    assert reopened.sign_proposal(H, R, BLOCK_B, Round(-1)) is None


def test_the_lock_and_its_blocks_survive_a_restart_and_an_oversized_block_is_left_out(
    tmp_path: Path,
) -> None:
    db = LevelDB(tmp_path / "db")
    lock = LockRecord(H, Round(2), BLOCK_A, Round(1), BLOCK_B, Round(2))
    kept = LockedBlock(b"block a", b"certificate", (b"vote 1", b"vote 2"))
    oversized = LockedBlock(b"x" * (MAX_FRAME_SIZE + 1), b"", ())
    SafeSigner(db, KEY, CHAIN).save_lock(lock, (kept, oversized))
    db.close()
    reopened = SafeSigner(LevelDB(tmp_path / "db"), KEY, CHAIN)
    assert reopened.load_lock() == lock
    assert reopened.load_lock_blocks() == (kept,)
