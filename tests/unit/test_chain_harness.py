"""The test chain harness builds its blocks on the node's path, so they follow the chain rules a
validator checks (`consensus.chain_rules`), commit link and sealing included."""

import time
from dataclasses import replace
from pathlib import Path

import pytest
from unit_helpers import KEYS, RECIPIENT, LocalChain, sign

from openledger.consensus.chain_rules import check_block_rules, compute_mix_hash
from openledger.consensus.messages import CommitCertificate
from openledger.consensus.validators import Validator, ValidatorSet
from openledger.genesis.types import BlockNumber
from openledger.state.errors import InvalidBlock


class _OneValidator:
    def for_height(self, height: BlockNumber) -> ValidatorSet:
        return ValidatorSet((Validator(KEYS[9].address, 1),))


def test_every_block_follows_the_chain_rules_of_its_parent(tmp_path: Path) -> None:
    local = LocalChain.open(tmp_path / "chain")
    try:
        for nonce in range(3):
            parent = local.head
            stored = local.store.get_commit(parent.block_number)
            certificate = CommitCertificate.decode(stored) if stored else None
            executed = local.add_block([sign(0, nonce, to=RECIPIENT, value=1)])
            header = executed.block.header
            check_block_rules(
                parent, executed.block, certificate, KEYS[9].address, _OneValidator(),
                local.chain.chain_id, time.time() + header.timestamp,
            )  # fmt: skip
            assert header.coinbase == KEYS[9].address
            assert header.mix_hash == compute_mix_hash(header.extra_data)
            assert (header.extra_data == b"") == (parent.block_number == 0)
    finally:
        local.close()


def test_a_block_off_the_rules_is_refused(tmp_path: Path) -> None:
    local = LocalChain.open(tmp_path / "chain")
    try:
        local.add_block()
        parent = local.head
        certificate = CommitCertificate.decode(local.store.get_commit(1) or b"")
        template = replace(local.template(), mix_hash=b"\x00" * 32)
        block = local.execute(template=template).block
        with pytest.raises(InvalidBlock, match="mixHash is not derived"):
            check_block_rules(
                parent, block, certificate, KEYS[9].address, _OneValidator(),
                local.chain.chain_id, time.time() + block.header.timestamp,
            )  # fmt: skip
    finally:
        local.close()
