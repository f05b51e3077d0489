"""Reporting double signs: turning two conflicting votes into an evidence transaction.

When the consensus host sees one validator sign two different votes for the same height, round
and step, a validator node submits them to the staking precompile's `submitDoubleSignEvidence`
as an ordinary transaction, signed with its own key (it pays the gas and receives the reporter's
share of the slash). The precompile verifies the pair on chain and slashes at most once per
offence, so several honest nodes reporting the same pair costs only the later reporters' gas for
a reverted call; each node reports a pair once.
"""

import logging

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from openledger.consensus.messages import Vote
from openledger.genesis.model import STAKING_ADDRESS
from openledger.genesis.types import Address
from openledger.node.chain import NodeChain
from openledger.state.errors import InvalidTransaction

log = logging.getLogger("openledger.evidence")

SUBMIT_SELECTOR = keccak(b"submitDoubleSignEvidence(bytes,bytes)")[:4]
EVIDENCE_GAS = 1_000_000
TIP = 10**9


class EvidenceReporter:
    """Submits each double sign it is told about once, as a transaction from `key`'s account."""

    def __init__(self, chain: NodeChain, key: bytes) -> None:
        self.chain = chain
        self._account = Account.from_key(key)
        self._address = Address(bytes.fromhex(self._account.address[2:]))
        self._reported: set[tuple[bytes, int, int, int]] = set()

    def report(self, vote_a: Vote, vote_b: Vote) -> bytes | None:
        """Submit the pair; returns the transaction hash, or None if not submitted."""
        offence = (vote_a.validator, vote_a.height, vote_a.round, int(vote_a.kind))
        if offence in self._reported:
            return None
        self._reported.add(offence)
        data = SUBMIT_SELECTOR + abi_encode(["bytes", "bytes"], [vote_a.encode(), vote_b.encode()])
        fields = {
            "type": 2,
            "chainId": self.chain.chain.chain_id,
            "nonce": self.chain.pending_nonce(self._address),
            "to": to_checksum_address(STAKING_ADDRESS),
            "value": 0,
            "data": data,
            "gas": EVIDENCE_GAS,
            "maxFeePerGas": 2 * self.chain.next_base_fee() + TIP,
            "maxPriorityFeePerGas": TIP,
        }
        raw = bytes(Account.sign_transaction(fields, self._account.key).raw_transaction)
        try:
            tx_hash = self.chain.submit_transaction(raw)
        except InvalidTransaction as error:
            log.warning(
                "could not submit double-sign evidence against 0x%s: %s",
                vote_a.validator.hex(),
                error,
            )
            return None
        log.warning(
            "submitted double-sign evidence against 0x%s (height %d, round %d) in 0x%s",
            vote_a.validator.hex(), vote_a.height, vote_a.round, tx_hash.hex(),
        )  # fmt: skip
        return bytes(tx_hash)
