"""The locked and valid blocks of a height, kept with the lock so a restart can re-propose them.

A validator locks on a block it has executed (`ConsensusHost.candidates`), but that body lives in
memory. After a whole network restarts, every validator may be locked on a block nobody has and
prevote nil on anything else: the chain halts. So, as CometBFT keeps proposals in its WAL, the
host persists each locked/valid block with its parent certificate and the prevotes that locked it
in the lock's synced write (`SafeSigner.save_lock`), and on start executes them again here.
"""

import logging

import rlp

from openledger.consensus.chain_rules import ValidatorSource
from openledger.consensus.errors import ConsensusError
from openledger.consensus.messages import CommitCertificate, Vote, VoteKind
from openledger.consensus.state import ConsensusState
from openledger.genesis.types import BlockNumber, Hash32
from openledger.node.blocks import CandidateBlock, execute_candidate
from openledger.node.chain import NodeChain
from openledger.node.protocol import ProtocolError, decode_block
from openledger.node.safety import LockedBlock
from openledger.state.errors import InvalidBlock

log = logging.getLogger("openledger.consensus")


def collect_locked_blocks(
    state: ConsensusState, candidates: dict[Hash32, CandidateBlock]
) -> tuple[LockedBlock, ...]:
    """The locked and valid blocks of `state` that we have, with their certificates and polkas."""
    blocks = []
    values = {(state.locked_value, state.locked_round), (state.valid_value, state.valid_round)}
    for value, round in sorted(values, key=lambda item: item[1]):
        candidate = candidates.get(value) if value is not None else None
        if value is None or candidate is None:
            continue
        certificate = candidate.parent_certificate
        votes = state.tally.get_votes_for(round, VoteKind.PREVOTE, value)
        blocks.append(
            LockedBlock(
                rlp.encode(candidate.block),
                certificate.encode() if certificate else b"",
                tuple(vote.encode() for vote in votes),
            )
        )
    return tuple(blocks)


async def restore_locked_blocks(
    chain: NodeChain,
    blocks: tuple[LockedBlock, ...],
    height: BlockNumber,
    validators: ValidatorSource,
    now: float,
) -> list[tuple[CandidateBlock, list[Vote]]]:
    """Execute the persisted blocks of `height` again on our head, with their polkas' votes.

    A block of another height, or one that no longer checks, is left out with a warning: the
    lock still holds, and a peer's proposal can bring the block again.
    """
    restored = []
    for locked in blocks:
        try:
            block = decode_block(locked.block, chain.chain.vm_class)
            if block.header.block_number != height:
                continue
            certificate = (
                CommitCertificate.decode(locked.parent_certificate)
                if locked.parent_certificate
                else None
            )
            votes = [Vote.decode(vote) for vote in locked.polka]
            candidate = await execute_candidate(
                chain.chain, chain.store, block, certificate, block.header.coinbase, validators,
                now,
            )  # fmt: skip
        except (ProtocolError, ConsensusError, InvalidBlock) as error:
            log.warning("cannot restore a persisted locked block at height %d: %s", height, error)
            continue
        log.info("restored locked block 0x%s at height %d", block.hash.hex()[:16], height)
        restored.append((candidate, [v for v in votes if v.height == height]))
    return restored
