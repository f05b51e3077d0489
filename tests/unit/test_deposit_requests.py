"""The EIP-6110 deposit-request shortcut (no code at the deposit contract address: no receipts
read back) gives the block py-evm's scan of every receipt gives."""

from pathlib import Path

from eth.vm.forks.prague import PragueVM
from unit_helpers import LocalChain, sign

from openledger.state.fork import OpenLedgerVM


def test_blocks_are_the_same_with_and_without_the_receipt_scan(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    raws = [sign(0, nonce) for nonce in range(5)] + [sign(1, 0, data=b"\x00" * 40, gas=60_000)]
    fast_chain = LocalChain.open(tmp_path / "fast")
    plain_chain = LocalChain.open(tmp_path / "plain")
    try:
        fast = fast_chain.execute(raws)
        with monkeypatch.context() as patch:
            patch.setattr(
                OpenLedgerVM, "process_deposit_request_data", PragueVM.process_deposit_request_data
            )
            plain = plain_chain.execute(raws)
        assert fast.block.header == plain.block.header
        assert fast.block.header.requests_hash == plain.block.header.requests_hash
        assert [r.encode() for r in fast.receipts] == [r.encode() for r in plain.receipts]
    finally:
        fast_chain.store.close()
        plain_chain.store.close()
