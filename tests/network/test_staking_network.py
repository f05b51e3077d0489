"""Staking driven by consensus, in one process: a double signer is reported, slashed once and
jailed, and leaves the active set at the epoch boundary; a new validator stakes through the
precompile and signs from the first block of the next epoch."""

import hashlib
from pathlib import Path

import pytest
from byzantine import Equivocator
from cluster import CHAIN_ID, Cluster
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_hash.auto import keccak
from eth_keys import keys
from eth_utils import to_checksum_address

from openledger.consensus.messages import CommitCertificate
from openledger.genesis.model import STAKING_ADDRESS
from openledger.genesis.types import Address, Gas
from openledger.state.calls import CallRequest, run_call

pytestmark = pytest.mark.timeout(300)

NEWCOMER_KEY = hashlib.sha256(b"openledger test validator joining later").digest()
NEWCOMER = Address(keys.PrivateKey(NEWCOMER_KEY).public_key.to_canonical_address())
SLASHED_TOPIC = int.from_bytes(keccak(b"Slashed(address,address,uint256,uint256,uint256)"), "big")


def _view(
    cluster: Cluster, signature: str, types: list[str], args: list[object], returns: list[str]
) -> tuple:  # type: ignore[type-arg]
    member = cluster.members[0]
    data = keccak(signature.encode())[:4] + abi_encode(types, args)
    result = run_call(
        member.chain.chain, member.chain.store.db, member.chain.store.head,
        CallRequest(sender=Address(bytes(20)), to=STAKING_ADDRESS, data=data), Gas(10_000_000),
    )  # fmt: skip
    assert result.success, result.error or result.output
    return abi_decode(returns, result.output)


def _validator(cluster: Cluster, address: bytes) -> dict[str, object]:
    fields = (
        "registered",
        "stake",
        "self_stake",
        "commission",
        "jailed",
        "jailed_until",
        "tombstoned",
        "active",
    )
    values = _view(
        cluster, "getValidator(address)", ["address"], [address],
        ["bool", "uint256", "uint256", "uint256", "bool", "uint256", "bool", "bool"],
    )  # fmt: skip
    return dict(zip(fields, values, strict=True))


def _slashed_events(cluster: Cluster) -> list[int]:
    store = cluster.members[0].chain.store
    found = []
    for number in range(1, store.head.block_number + 1):
        for receipt in store.get_receipts(store.get_header(number)):  # type: ignore[arg-type]
            for log in receipt.logs:
                if log.address == STAKING_ADDRESS and log.topics[0] == SLASHED_TOPIC:
                    found.append(number)
    return found


async def test_double_signer_is_slashed_once_jailed_and_leaves_the_set(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, epoch_length=10)
    try:
        await cluster.start(hosts={1: Equivocator})
        offender = cluster.addresses[1]
        before = _validator(cluster, offender)
        # Every honest validator reports what it saw; the chain slashes the first report only.
        await cluster.run_until(lambda: len(_slashed_events(cluster)) >= 1, max_ms=120_000)
        await cluster.run_until(lambda: all(m.head >= 25 for m in cluster.members), max_ms=300_000)
        cluster.assert_agreement()
        assert len(_slashed_events(cluster)) == 1, "slashed more than once"
        after = _validator(cluster, offender)
        assert after["jailed"] and after["tombstoned"]
        assert after["stake"] < before["stake"]  # type: ignore[operator]
        # The jailed validator is out of the set from the first block after the next boundary.
        slashed_at = _slashed_events(cluster)[0]
        boundary = (slashed_at // 10 + 1) * 10
        store = cluster.members[0].chain.store
        for number in range(boundary + 1, store.head.block_number):
            signers = {
                v.validator for v in CommitCertificate.decode(store.get_commit(number)).precommits
            }  # type: ignore[arg-type]
            assert offender not in signers, f"the jailed validator still signs block {number}"
        (members, _, _) = _view(
            cluster, "getActiveValidators()", [], [], ["address[]", "uint256[]", "uint256"]
        )
        assert to_checksum_address(offender) not in members
    finally:
        cluster.close()


async def test_new_validator_stakes_and_joins_at_the_next_epoch(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, epoch_length=10, extra_keys=(NEWCOMER_KEY,))
    try:
        await cluster.start()
        await cluster.run_until(lambda: all(m.head >= 3 for m in cluster.members))
        # The newcomer runs a node with its key from the start: a follower until it is elected.
        newcomer = cluster.add_member(7, signer_key=NEWCOMER_KEY)
        newcomer.host.on_equivocation = cluster._equivocation_listener(7)
        await newcomer.host.start()
        stake = 5_000 * 10**18
        chain = cluster.members[0].chain
        raw = Account.sign_transaction(
            {"type": 2, "chainId": CHAIN_ID, "nonce": 0, "to": to_checksum_address(STAKING_ADDRESS),
             "value": stake, "gas": 1_000_000, "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9,
             "data": keccak(b"registerValidator(uint256)")[:4] + abi_encode(["uint256"], [500])},
            NEWCOMER_KEY,
        ).raw_transaction  # fmt: skip
        chain.submit_transaction(bytes(raw))
        await cluster.run_until(lambda: _validator(cluster, NEWCOMER)["registered"])
        registered_at = chain.store.head.block_number
        boundary = (registered_at // 10 + 1) * 10
        await cluster.run_until(
            lambda: all(m.head >= boundary + 6 for m in cluster.members), max_ms=300_000
        )
        cluster.assert_agreement()
        store = chain.store
        # Not a signer before the boundary, a signer after it.
        for number in range(registered_at, boundary + 1):
            signers = {
                v.validator for v in CommitCertificate.decode(store.get_commit(number)).precommits
            }  # type: ignore[arg-type]
            assert NEWCOMER not in signers
        later = [
            NEWCOMER
            in {v.validator for v in CommitCertificate.decode(store.get_commit(n)).precommits}  # type: ignore[arg-type]
            for n in range(boundary + 2, boundary + 6)
        ]
        assert any(later), "the new validator does not sign after the epoch boundary"
        assert _validator(cluster, NEWCOMER)["active"]
    finally:
        cluster.close()
