"""A staking chain in a temporary LevelDB directory, driven block by block.

Everything is real: the genesis goes through `build_genesis`, the VM is `build_vm_class`'s (the
staking precompile and hooks wired as the node wires them), transactions are signed with
eth-account and executed by py-evm, and each block's hooks see the commit signers a test chooses.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth.abc import ReceiptAPI, StateAPI
from eth.vm.chain_context import ChainContext
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account as EthAccount
from helpers import normalize_abi_value
from support.chain import ChainHarness

from openledger.consensus.messages import Vote, VoteKind
from openledger.consensus.signing import sign_vote
from openledger.consensus.staking import make_staking_precompile
from openledger.consensus.staking.abi import STAKING_EVENTS
from openledger.consensus.staking.ledger import Ledger
from openledger.consensus.staking.sets import get_signing_set
from openledger.genesis.dev import DevKey, derive_dev_keys, make_dev_genesis
from openledger.genesis.model import (
    ETHER,
    GWEI,
    STAKING_ADDRESS,
    Genesis,
    GenesisValidator,
    StakingParams,
)
from openledger.genesis.types import Address, BlockNumber, ChainId, Gas, Round, Wei
from openledger.node.chainspec import build_genesis, build_vm_class
from openledger.node.sealing import SoloSealer
from openledger.state.calls import CallRequest, CallResult, decode_revert_reason, run_call
from openledger.state.db import Overlay
from openledger.state.execute import Chain
from openledger.state.precompile import Storage
from openledger.state.proofs import get_proof
from openledger.state.store import ChainStore, ExecutedBlock

CHAIN_ID = ChainId(1337)
KEYS: tuple[DevKey, ...] = derive_dev_keys(10)
"""Dev accounts; 0..3 are the genesis validators, 4 registers later, 5..9 delegate and report."""
VALIDATORS = tuple(key.address for key in KEYS[:4])
STAKE = Wei(1000 * ETHER)
"""Genesis self-stake of each validator (equal, so ties are broken by address)."""
BALANCE = Wei(100_000 * ETHER)
PROPOSER = KEYS[0].address

PARAMS = StakingParams(
    max_validators=5,
    min_validator_stake=Wei(100 * ETHER),
    min_delegation=Wei(ETHER),
    epoch_length=4,
    unbonding_blocks=10,
    block_reward=Wei(2 * ETHER),
    downtime_window=8,
    min_signed_per_window_bps=5000,
    downtime_jail_blocks=6,
    downtime_slash_bps=100,
    double_sign_slash_bps=500,
    evidence_reward_bps=1000,
    evidence_max_age_blocks=8,
    evidence_max_age_seconds=5,
    max_delegations_per_account=3,
    max_unbonding_entries=3,
)
"""Small numbers so a test reaches epoch boundaries, maturity and windows in a few blocks."""

PRECOMPILE = make_staking_precompile(PARAMS)
METHODS = {method.name: method for method in PRECOMPILE.methods.values()}


def make_genesis(
    params: StakingParams = PARAMS,
    stakes: Sequence[int] = (STAKE,) * 4,
    commissions: Sequence[int] = (1000, 0, 2000, 10_000),
) -> Genesis:
    """Ten funded dev accounts; the first `len(stakes)` are validators with these stakes."""
    base = make_dev_genesis(CHAIN_ID, tuple(key.address for key in KEYS), (), balance=BALANCE)
    validators = tuple(
        GenesisValidator(KEYS[index].address, Wei(stake), commissions[index])
        for index, stake in enumerate(stakes)
    )
    return replace(base, openledger=replace(base.openledger, validators=validators, staking=params))


def encode_call(name: str, *args: Any) -> bytes:
    """Calldata of a staking method."""
    method = METHODS[name]
    return method.selector + abi_encode([kind for _, kind in method.inputs], list(args))


def decode_result(name: str, output: bytes) -> Any:
    """The decoded results of a staking method (one value, or a tuple), addresses as bytes and
    arrays as lists."""
    kinds = list(METHODS[name].outputs)
    values = tuple(
        normalize_abi_value(kind, value)
        for kind, value in zip(kinds, abi_decode(kinds, output), strict=True)
    )
    return values[0] if len(values) == 1 else values


def sign_double_vote(
    key: DevKey,
    height: int,
    *,
    round: int = 0,
    kind: VoteKind = VoteKind.PRECOMMIT,
    hashes: tuple[bytes, bytes] = (b"\xaa" * 32, b"\xbb" * 32),
    chain_id: int = CHAIN_ID,
) -> tuple[bytes, bytes]:
    """Two encoded votes of `key` at (height, round, kind) for two blocks."""
    return tuple(  # type: ignore[return-value]
        sign_vote(key.private_key, chain_id=ChainId(chain_id), height=BlockNumber(height),
                  round=Round(round), kind=kind, block_hash=block_hash).encode()
        for block_hash in hashes
    )  # fmt: skip


def encode_vote(vote: Vote) -> bytes:
    """The RLP encoding of a vote (for votes built by hand)."""
    return vote.encode()


@dataclass
class StakingChain(ChainHarness):
    """A chain with the staking precompile, in a temporary directory, on the node's build path
    (`support.chain`), sealed by `KEYS[0]`."""

    genesis: Genesis

    @classmethod
    def open(cls, path: Path, genesis: Genesis | None = None) -> "StakingChain":
        genesis = genesis or make_genesis()
        vm_class = build_vm_class(genesis)
        store = ChainStore.open(path, build_genesis(genesis), vm_class)
        sealer = SoloSealer(KEYS[0].private_key, genesis.chain_id)
        return cls(store, Chain(vm_class, genesis.chain_id), sealer, genesis)

    @property
    def params(self) -> StakingParams:
        return self.genesis.openledger.staking

    # --- blocks --------------------------------------------------------------------------------

    def default_signers(self) -> tuple[Address, ...]:
        """Every member of the set that signed the head (what an honest commit holds)."""
        head = self.head.block_number
        if head == 0:
            return ()
        return tuple(m.address for m in get_signing_set(self.ledger(), head).members)

    def execute(  # type: ignore[override]
        self,
        raws: Iterable[bytes] = (),
        *,
        signers: Sequence[Address] | None = None,
        proposer: Address = PROPOSER,
        seconds: int = 1,
    ) -> tuple[ExecutedBlock, list[ReceiptAPI]]:
        """The next block with these transactions, `seconds` after its parent, executed, not
        committed."""
        chosen = self.default_signers() if signers is None else signers
        executed = self.build(raws, proposer=proposer, signers=chosen, seconds=seconds)
        return executed, list(executed.receipts)

    def mine(  # type: ignore[override]
        self,
        raws: Iterable[bytes] = (),
        *,
        signers: Sequence[Address] | None = None,
        proposer: Address = PROPOSER,
        seconds: int = 1,
    ) -> list[ReceiptAPI]:
        """Execute and commit the next block, `seconds` after its parent; returns its receipts."""
        executed, receipts = self.execute(raws, signers=signers, proposer=proposer, seconds=seconds)
        self.commit(executed)
        return receipts

    def mine_until(self, number: int, *, signers: Sequence[Address] | None = None) -> None:
        """Mine empty blocks until the head is `number`."""
        while self.head.block_number < number:
            self.mine(signers=signers)

    # --- transactions --------------------------------------------------------------------------

    def transaction(
        self,
        key: DevKey,
        name: str,
        *args: Any,
        value: int = 0,
        gas: int = 2_000_000,
        nonce: int | None = None,
        to: bytes = STAKING_ADDRESS,
        data: bytes | None = None,
    ) -> bytes:
        """A signed transaction from `key` calling a staking method."""
        fields = {
            "type": 2, "chainId": CHAIN_ID, "gas": gas, "value": value,
            "nonce": self.state().get_nonce(key.address) if nonce is None else nonce,
            "to": to, "data": encode_call(name, *args) if data is None else data,
            "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI,
        }  # fmt: skip
        return bytes(EthAccount.sign_transaction(fields, key.private_key).raw_transaction)

    def send(
        self, key: DevKey, name: str, *args: Any, value: int = 0, **options: Any
    ) -> ReceiptAPI:
        """Mine a block with one staking transaction; returns its receipt."""
        signers = options.pop("signers", None)
        raw = self.transaction(key, name, *args, value=value, **options)
        return self.mine([raw], signers=signers)[0]

    def simulate(self, sender: Address, name: str, *args: Any, value: int = 0) -> CallResult:
        """Run a staking call on the head state in the context of the next block."""
        return self.call_raw(sender, STAKING_ADDRESS, encode_call(name, *args), value)

    def call_raw(
        self, sender: Address, to: bytes, data: bytes, value: int = 0, *, at_head: bool = False
    ) -> CallResult:
        """Run any message on the head state, in the context of the next block (as a
        transaction would run) or, `at_head`, of the head itself (as `eth_call` runs)."""
        parent = self.head
        context = parent if at_head else parent.copy(
            block_number=parent.block_number + 1, parent_hash=parent.hash,
            timestamp=parent.timestamp + 1,
        )  # fmt: skip
        request = CallRequest(sender, Address(to), data, Wei(value))
        return run_call(self.chain, self.store.db, context, request, Gas(10_000_000))

    def revert_reason(self, sender: Address, name: str, *args: Any, value: int = 0) -> str:
        """The reason a staking call would revert with now (fails if it succeeds)."""
        result = self.simulate(sender, name, *args, value=value)
        assert not result.success, f"{name} unexpectedly succeeded"
        reason = decode_revert_reason(result.output)
        assert reason is not None
        return reason

    def view(self, name: str, *args: Any) -> Any:
        """The decoded result of a staking view at the head (as `eth_call` on "latest")."""
        data = encode_call(name, *args)
        result = self.call_raw(Address(b"\x00" * 20), STAKING_ADDRESS, data, at_head=True)
        assert result.success, decode_revert_reason(result.output)
        return decode_result(name, result.output)

    # --- state ---------------------------------------------------------------------------------

    def state_of(self, executed: ExecutedBlock) -> StateAPI:
        """The state after an executed, uncommitted block."""
        overlay = self._overlay(executed)
        return self.chain.vm_class.build_state(
            overlay, executed.block.header, ChainContext(CHAIN_ID)
        )

    def staking_fingerprint(self, executed: ExecutedBlock) -> tuple[str, str]:
        """(storage root, balance) of the staking precompile after an uncommitted block."""
        proof = get_proof(self._overlay(executed), executed.block.header.state_root,
                          STAKING_ADDRESS, [])  # fmt: skip
        return proof["storageHash"], proof["balance"]

    def ledger(self) -> Ledger:
        return Ledger(Storage(self.state(), STAKING_ADDRESS))

    def balance(self, address: bytes) -> int:
        return int(self.state().get_balance(Address(address)))

    def validator_set(self) -> Any:
        from openledger.consensus.staking import read_validator_set

        return read_validator_set(self.state(), self.params)

    def _overlay(self, executed: ExecutedBlock) -> Overlay:
        overlay = Overlay(self.store.db)
        for key, value in executed.changes.items():
            if value is None:
                del overlay[key]
            else:
                overlay[key] = value
        return overlay


def is_success(receipt: ReceiptAPI) -> bool:
    """Whether a receipt's transaction succeeded (status 1)."""
    return bool(receipt.state_root == b"\x01")


def events(receipt: ReceiptAPI) -> list[tuple[str, dict[str, Any]]]:
    """The staking events of a receipt, decoded: (name, {argument: value})."""
    by_topic = {int.from_bytes(event.topic, "big"): event for event in STAKING_EVENTS}
    decoded = []
    for log in receipt.logs:
        assert log.address == STAKING_ADDRESS
        event = by_topic[log.topics[0]]
        indexed = iter(log.topics[1:])
        data = iter(abi_decode([kind for _, kind, flag in event.inputs if not flag], log.data))
        values: dict[str, Any] = {}
        for name, kind, flag in event.inputs:
            if flag:
                values[name] = abi_decode([kind], next(indexed).to_bytes(32, "big"))[0]
            else:
                values[name] = next(data)
            if kind == "address":
                values[name] = Address(bytes.fromhex(values[name][2:]))
        decoded.append((event.name, values))
    return decoded


def fee_paid(chain: StakingChain, receipt: ReceiptAPI) -> int:
    """What the only transaction of the head block paid for gas (base fee plus 1 gwei tip)."""
    return int(receipt.gas_used) * (int(chain.head.base_fee_per_gas or 0) + GWEI)
