"""EIP-3607: a sender with code cannot send transactions, except an EIP-7702 delegated EOA.

Checked when a block is built, when a peer's block is imported, and at pool admission (geth's
"sender not an eoa"). `eth_call` may still call "from" a contract, as in geth.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_node_mempool import A, FakeAccounts, refusal
from test_node_mempool import add as pool_add
from unit_helpers import FUNDED, PROPOSER, RECIPIENT, LocalChain, decode, sign

from openledger.genesis.model import ETHER
from openledger.genesis.types import Gas, Wei
from openledger.node.mempool import Mempool
from openledger.state.calls import CallRequest, run_call
from openledger.state.errors import InvalidBlock, InvalidTransaction
from openledger.state.execute import AccountOverride, BlockBuilder, import_block
from openledger.state.fork import BlockInputs

SENDER = FUNDED[0]
CONTRACT_CODE = bytes.fromhex("602a60005260206000f3")
DELEGATION = bytes.fromhex("ef0100") + bytes(RECIPIENT)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalChain]:
    chain = LocalChain.open(tmp_path / "chain")
    try:
        yield chain
    finally:
        chain.store.close()


def _give_code(local: LocalChain, code: bytes) -> None:
    """Commit a block that sets the sender's code (as anvil_setCode does)."""
    parent = local.store.head
    builder = BlockBuilder(
        local.chain,
        local.store.db,
        parent,
        coinbase=PROPOSER,
        timestamp=parent.timestamp + 1,
        extra_data=b"",
        mix_hash=b"\x00" * 32,
        inputs=BlockInputs(PROPOSER),
        overrides=((SENDER, AccountOverride(code=code)),),
    )
    local.store.commit(builder.finish(), None)


def test_building_refuses_a_sender_with_code(local: LocalChain) -> None:
    _give_code(local, CONTRACT_CODE)
    builder = local.builder()

    with pytest.raises(InvalidTransaction, match="sender not an eoa"):
        builder.add_transaction(decode(sign(0, 0, value=1)))

    assert builder.transaction_count == 0


def test_a_delegated_eoa_still_sends(local: LocalChain) -> None:
    _give_code(local, DELEGATION)
    local.store.commit(local.execute([sign(0, 0, value=ETHER)]), None)

    assert local.balance(RECIPIENT) == ETHER


def test_import_refuses_a_block_with_a_sender_that_has_code(
    local: LocalChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    _give_code(local, CONTRACT_CODE)
    parent = local.store.head
    with monkeypatch.context() as patch:
        # A proposer that skips the check.
        patch.setattr("openledger.state.fork.is_eoa_code", lambda code: True)
        executed = local.execute([sign(0, 0, value=1)])

    with pytest.raises(InvalidBlock, match="sender not an eoa"):
        import_block(local.chain, local.store.db, parent, executed.block, BlockInputs(PROPOSER))


def test_a_call_from_a_contract_is_still_answered(local: LocalChain) -> None:
    _give_code(local, CONTRACT_CODE)
    header = local.store.head
    request = CallRequest(sender=SENDER, to=RECIPIENT, value=Wei(1))

    assert run_call(local.chain, local.store.db, header, request, Gas(1_000_000)).success


def test_the_pool_refuses_a_sender_with_code_and_admits_a_delegated_one() -> None:
    pool = Mempool()

    assert refusal(pool, 0, 0, FakeAccounts(codes={A: CONTRACT_CODE})) == "sender not an eoa"
    assert pool_add(pool, 0, 0, FakeAccounts(codes={A: DELEGATION})).pending
