"""Test-only Byzantine consensus hosts: they sign what an honest validator never would.

They bypass `SafeSigner` on purpose (that is the fault being simulated) and talk to chosen halves
of the network directly.
"""

from typing import Any

from eth.db.trie import make_trie_root_and_nodes

from openledger.consensus.chain_rules import BlockTemplate, compute_timestamp, make_template
from openledger.consensus.events import ProposalReceived, VoteReceived
from openledger.consensus.messages import NIL, VoteKind
from openledger.consensus.signing import sign_proposal, sign_vote
from openledger.genesis.types import BlockNumber, Hash32, Round
from openledger.node.blocks import CandidateBlock
from openledger.node.consensus_host import ConsensusHost
from openledger.node.protocol import MessageKind, ProposalMessage, encode_proposal


class _TwoFaced(ConsensusHost):
    """Sends one version of its messages to `first_half` and another to everyone else."""

    key: bytes
    first_half: set[bytes]

    def _send_split(self, kind: int, first: bytes, second: bytes) -> None:
        for info in self.network.peers():
            payload = first if info.peer_id in self.first_half else second
            self.network.send(info.peer_id, kind, payload)


class ConflictingProposer(_TwoFaced):
    """As proposer, builds two different blocks and proposes one to each half of the network."""

    splits = 0

    async def _sign_proposal(
        self, height: BlockNumber, round: int, block_hash: Hash32, pol_round: int
    ) -> None:
        first = self.candidates.get(block_hash)
        if first is None:
            return
        store = self.chain.store
        parent = store.head
        template = make_template(
            self.me, compute_timestamp(parent, int(self.scheduler.now())) + 1,  # type: ignore[arg-type]
            store.get_commit(parent.block_number),
        )  # fmt: skip
        built = await self.chain.build_block(BlockTemplate(**{**_fields(template)}))
        second = CandidateBlock(built.executed, first.parent_certificate)
        self.candidates[Hash32(second.block.hash)] = second
        payloads = []
        for candidate in (first, second):
            proposal = sign_proposal(
                self.key, chain_id=self.chain.chain.chain_id, height=height, round=Round(round),
                block_hash=Hash32(candidate.block.hash), pol_round=Round(pol_round),
            )  # fmt: skip
            payloads.append(
                (
                    proposal,
                    encode_proposal(
                        ProposalMessage(proposal, candidate.block, first.parent_certificate)
                    ),
                )
            )
        self._send_split(MessageKind.PROPOSAL, payloads[0][1], payloads[1][1])
        self.splits += 1
        await self._feed(ProposalReceived(payloads[0][0], valid=True))


class Equivocator(_TwoFaced):
    """Signs every vote twice: what it should vote to one half, nil (or a block) to the other."""

    equivocations_sent = 0

    async def _sign_vote(
        self, height: BlockNumber, round: int, kind: Any, block_hash: bytes
    ) -> None:
        other = NIL if block_hash else bytes(32)
        votes = [
            sign_vote(self.key, chain_id=self.chain.chain.chain_id, height=height, round=Round(round),
                      kind=VoteKind(kind), block_hash=choice)
            for choice in (block_hash, other)
        ]  # fmt: skip
        self._send_split(MessageKind.VOTE, votes[0].encode(), votes[1].encode())
        self.equivocations_sent += 1
        await self._feed(VoteReceived(votes[0]))


def _fields(template: BlockTemplate) -> dict[str, Any]:
    return {name: getattr(template, name) for name in template.__dataclass_fields__}


class BadBlockProposer(ConsensusHost):
    """As proposer, proposes a block that does not execute to its header (a tampered state root,
    or a transaction whose nonce is wrong), or whose body is not the one its header names (a
    transaction added after the header was made)."""

    fault = "state_root"
    bad_proposals = 0

    async def _build_proposal(self, height: BlockNumber, round: int) -> None:
        await super()._build_proposal(height, round)

    async def _sign_proposal(
        self, height: BlockNumber, round: int, block_hash: Hash32, pol_round: int
    ) -> None:
        honest = self.candidates.get(block_hash)
        if honest is None or self.signer is None:
            return
        block = honest.block
        if self.fault == "state_root":
            block = block.copy(header=block.header.copy(state_root=bytes(32)))
        else:
            from eth_account import Account

            from openledger.genesis.dev import derive_dev_keys

            key = derive_dev_keys(1)[0].private_key
            raw = Account.sign_transaction(
                {"type": 2, "chainId": self.chain.chain.chain_id, "nonce": 999, "to": "0x" + "22" * 20,
                 "value": 1, "gas": 21000, "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 1},
                key,
            ).raw_transaction  # fmt: skip
            bad = self.chain.chain.vm_class.get_transaction_builder().decode(bytes(raw))
            block = block.copy(transactions=(*block.transactions, bad))
            if self.fault == "bad_transaction":
                root, _ = make_trie_root_and_nodes(block.transactions)
                block = block.copy(header=block.header.copy(transaction_root=root))
        proposal = sign_proposal(
            self.key, chain_id=self.chain.chain.chain_id, height=height, round=Round(round),
            block_hash=Hash32(block.hash), pol_round=Round(pol_round),
        )  # fmt: skip
        self.bad_proposals += 1
        self.network.broadcast(
            MessageKind.PROPOSAL,
            encode_proposal(ProposalMessage(proposal, block, honest.parent_certificate)),
        )
