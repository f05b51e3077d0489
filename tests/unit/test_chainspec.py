"""The genesis a node starts from commits to the whole chain configuration: the genesis hash
(compared in the p2p handshake, kept by a data directory) differs for another chain id or any
other `openledger` parameter, not only for another alloc."""

from dataclasses import replace
from pathlib import Path

from openledger.genesis.dev import derive_dev_keys, derive_dev_validator_key, make_dev_genesis
from openledger.genesis.model import Genesis
from openledger.genesis.types import ChainId
from openledger.node.chainspec import build_genesis, build_vm_class
from openledger.state.store import ChainStore


def _genesis(chain_id: int = 1337) -> Genesis:
    return make_dev_genesis(
        ChainId(chain_id),
        tuple(k.address for k in derive_dev_keys(2)),
        (derive_dev_validator_key().address,),
    )


def _hash(path: Path, genesis: Genesis) -> bytes:
    store = ChainStore.open(path, build_genesis(genesis), build_vm_class(genesis))
    try:
        return bytes(store.genesis_hash)
    finally:
        store.close()


def test_genesis_hash_covers_the_chain_id_and_every_parameter(tmp_path: Path) -> None:
    base = _genesis()
    params = base.openledger
    variants = {
        "same": base,
        "chain id": _genesis(31337),
        "epoch length": replace(
            base, openledger=replace(params, staking=replace(params.staking, epoch_length=7))
        ),
        "fee share": replace(
            base,
            openledger=replace(params, attribution=replace(params.attribution, protocol_fee_bps=1)),
        ),
        "block time": replace(
            base,
            openledger=replace(params, consensus=replace(params.consensus, block_time_ms=2000)),
        ),
    }
    hashes = {
        name: _hash(tmp_path / name.replace(" ", "-"), genesis)
        for name, genesis in variants.items()
    }
    assert hashes["same"] == _hash(tmp_path / "again", base), "not deterministic"
    assert len(set(hashes.values())) == len(hashes), hashes


def test_build_genesis_is_idempotent() -> None:
    built = build_genesis(_genesis())
    assert build_genesis(built) == built
