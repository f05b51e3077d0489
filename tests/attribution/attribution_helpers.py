"""A chain with the attribution precompiles in a temporary LevelDB directory, driven block by block.

Everything is real: the genesis goes through `build_genesis`, the VM is `build_vm_class`'s (the
precompiles wired as the node wires them), transactions are signed with eth-account and executed
by py-evm, and calls are encoded and decoded with the ABI that solc-js compiles from the shipped
interfaces in `attribution/solidity/`, never with the precompiles' own tables.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import rlp
from eth._utils.address import generate_contract_address
from eth.abc import BlockHeaderAPI, ReceiptAPI
from eth.rlp.accounts import Account as RlpAccount
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account as EthAccount
from eth_hash.auto import keccak
from helpers import compile_solidity, normalize_abi_value
from support.chain import ChainHarness
from trie import HexaryTrie
from trie.iter import NodeIterator

from openledger.attribution import SOLIDITY_DIR
from openledger.genesis.dev import (
    DevKey,
    derive_dev_keys,
    derive_dev_validator_key,
    make_dev_genesis,
)
from openledger.genesis.model import (
    AGENTS_ADDRESS,
    ATTRIBUTION_ADDRESS,
    DATANETS_ADDRESS,
    ETHER,
    GWEI,
    MODELS_ADDRESS,
    AttributionParams,
    Genesis,
    StakingParams,
)
from openledger.genesis.types import Address, ChainId, Gas, Wei
from openledger.node.chainspec import build_genesis, build_vm_class
from openledger.node.sealing import SoloSealer
from openledger.state.calls import CallRequest, CallResult, decode_revert_reason, run_call
from openledger.state.execute import Chain, compute_next_base_fee
from openledger.state.fork import OpenLedgerVM
from openledger.state.proofs import get_proof
from openledger.state.store import ChainStore

CHAIN_ID = ChainId(1337)
KEYS: tuple[DevKey, ...] = derive_dev_keys(10)
OWNER, ALICE, BOB, CAROL, MODEL_OWNER, OPERATOR, AGENT_OWNER, CURATOR, MALLORY = KEYS[:9]
"""Roles: a Datanet's owner, three contributors, a model's owner and operator, an agent's owner,
a curator, and someone with no rights."""
PROTOCOL = KEYS[9].address
"""The genesis protocol account."""
VALIDATOR = derive_dev_validator_key()
BALANCE = Wei(100_000 * ETHER)
TIP = GWEI
"""Priority fee of every transaction the tests sign."""

PARAMS = AttributionParams(
    protocol_fee_bps=1000,
    model_owner_fee_bps=3000,
    agent_owner_fee_bps=1000,
    protocol_account=PROTOCOL,
    max_contributions_per_inference=8,
    max_datanets_per_model=4,
    daily_contribution_bytes=10_000,
    daily_contribution_count=6,
    flag_penalty_threshold=2,
    min_agent_stake=Wei(10 * ETHER),
    agent_unbonding_blocks=5,
)
"""Small limits, so tests reach them in a few calls."""

PRECOMPILES = {
    "datanets": DATANETS_ADDRESS,
    "models": MODELS_ADDRESS,
    "agents": AGENTS_ADDRESS,
    "attribution": ATTRIBUTION_ADDRESS,
}
INTERFACES = {"datanets": "IDatanets", "models": "IModels", "agents": "IAgents",
              "attribution": "IAttribution"}  # fmt: skip


def shipped_abis() -> dict[str, list[dict[str, Any]]]:
    """The ABI of each shipped interface, compiled by solc-js, by precompile name."""
    paths = sorted(SOLIDITY_DIR.glob("*.sol"))
    compiled = compile_solidity(*paths)
    return {name: compiled[interface]["abi"] for name, interface in INTERFACES.items()}


def make_genesis(params: AttributionParams = PARAMS) -> Genesis:
    """The dev accounts funded, the dev validator, and `params`."""
    base = make_dev_genesis(
        CHAIN_ID, tuple(key.address for key in KEYS), (VALIDATOR.address,), balance=BALANCE
    )
    staking = StakingParams(min_validator_stake=base.openledger.staking.min_validator_stake)
    return replace(base, openledger=replace(base.openledger, attribution=params, staking=staking))


# --- ABI ------------------------------------------------------------------------------------------


def _types(entries: Sequence[dict[str, Any]]) -> list[str]:
    return [entry["type"] for entry in entries]


class Abi:
    """Encoding and decoding with the shipped ABIs."""

    def __init__(self, abis: dict[str, list[dict[str, Any]]]) -> None:
        self.functions = {
            (name, entry["name"]): entry
            for name, abi in abis.items()
            for entry in abi
            if entry["type"] == "function"
        }
        self.events: dict[bytes, dict[str, Any]] = {}
        for abi in abis.values():
            for entry in abi:
                if entry["type"] == "event":
                    signature = f"{entry['name']}({','.join(_types(entry['inputs']))})"
                    self.events[keccak(signature.encode())] = entry

    def selector(self, target: str, function: str) -> bytes:
        entry = self.functions[(target, function)]
        return keccak(f"{function}({','.join(_types(entry['inputs']))})".encode())[:4]

    def encode(self, target: str, function: str, *args: Any) -> bytes:
        entry = self.functions[(target, function)]
        return self.selector(target, function) + abi_encode(_types(entry["inputs"]), list(args))

    def decode(self, target: str, function: str, output: bytes) -> Any:
        kinds = _types(self.functions[(target, function)]["outputs"])
        values = tuple(normalize_abi_value(kind, value) for kind, value in
                       zip(kinds, abi_decode(kinds, output), strict=True))  # fmt: skip
        return values[0] if len(values) == 1 else values

    def decode_logs(self, logs: Iterable[Any]) -> list[tuple[str, dict[str, Any]]]:
        """(event name, {argument: value}) of each log, in order; addresses as bytes."""
        decoded = []
        for log in logs:
            entry = self.events[log.topics[0].to_bytes(32, "big")]
            topics = iter(log.topics[1:])
            data_kinds = [item["type"] for item in entry["inputs"] if not item["indexed"]]
            data = iter(abi_decode(data_kinds, log.data))
            values: dict[str, Any] = {}
            for item in entry["inputs"]:
                if item["indexed"]:
                    raw = abi_decode([item["type"]], next(topics).to_bytes(32, "big"))[0]
                else:
                    raw = next(data)
                values[item["name"]] = normalize_abi_value(item["type"], raw)
            decoded.append((entry["name"], values))
        return decoded


# --- the chain ------------------------------------------------------------------------------------


@dataclass
class Sent:
    """A mined transaction: its receipt, its decoded logs, and what simulating it just before
    returned (the result, or the revert reason)."""

    receipt: ReceiptAPI
    events: list[tuple[str, dict[str, Any]]]
    simulation: CallResult
    result: Any = None
    reason: str | None = None
    gas_price: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.receipt.state_root == b"\x01")

    @property
    def gas_used(self) -> int:
        return int(self.receipt.gas_used)

    @property
    def fee(self) -> int:
        """Wei the sender paid for gas."""
        return self.gas_used * self.gas_price


@dataclass
class AttributionChain(ChainHarness):
    """A chain with the attribution precompiles, in a temporary directory, on the node's build
    path (`support.chain`), sealed by the dev validator."""

    genesis: Genesis
    abi: Abi
    burned: int = 0
    """Base fees burned by the blocks mined so far."""
    issued: int = 0
    """Block rewards minted by the blocks mined so far."""
    targets: dict[str, Address] = field(default_factory=lambda: dict(PRECOMPILES))
    """Addresses of the precompiles `send` and `view` name."""
    contracts: dict[str, Address] = field(default_factory=dict)
    """Contracts a test deployed, by name."""

    @classmethod
    def open(
        cls, path: Path, abi: Abi, genesis: Genesis | None = None,
        vm_class: type[OpenLedgerVM] | None = None,
    ) -> "AttributionChain":  # fmt: skip
        """A chain of `genesis` (`make_genesis()`) run by `vm_class` (the node's, from
        `build_vm_class`)."""
        genesis = genesis or make_genesis()
        vm_class = vm_class or build_vm_class(genesis)
        store = ChainStore.open(path, build_genesis(genesis), vm_class)
        sealer = SoloSealer(VALIDATOR.private_key, genesis.chain_id)
        return cls(store, Chain(vm_class, genesis.chain_id), sealer, genesis, abi)

    @property
    def params(self) -> AttributionParams:
        return self.genesis.openledger.attribution

    # --- blocks ---------------------------------------------------------------------------------

    def mine(self, raws: Iterable[bytes] = (), *, seconds: int = 1) -> list[ReceiptAPI]:  # type: ignore[override]
        """Execute and commit the next block, `seconds` after the head."""
        executed = self.build(raws, seconds=seconds)
        header = executed.block.header
        self.burned += int(header.gas_used) * int(header.base_fee_per_gas)
        if header.block_number >= 2:
            self.issued += self.genesis.openledger.staking.block_reward
        self.commit(executed)
        return list(executed.receipts)

    def mine_until(self, number: int) -> None:
        while self.head.block_number < number:
            self.mine()

    # --- transactions ---------------------------------------------------------------------------

    def sign(
        self, key: DevKey, to: bytes | None, data: bytes, *, value: int = 0, gas: int = 3_000_000,
        nonce: int | None = None,
    ) -> bytes:  # fmt: skip
        fields = {
            "type": 2, "chainId": CHAIN_ID, "gas": gas, "value": value,
            "nonce": self.state().get_nonce(key.address) if nonce is None else nonce,
            "data": data, "maxFeePerGas": 50 * GWEI, "maxPriorityFeePerGas": TIP,
        }  # fmt: skip
        if to is not None:
            fields["to"] = to
        return bytes(EthAccount.sign_transaction(fields, key.private_key).raw_transaction)

    def send_data(
        self, key: DevKey, to: bytes | None, data: bytes, *, value: int = 0, gas: int = 3_000_000,
        decode: tuple[str, str] | None = None,
    ) -> Sent:  # fmt: skip
        """Simulate then mine one transaction; returns what happened."""
        simulation = self.simulate(key.address, to, data, value=value, gas=gas)
        price = int(self._next_base_fee()) + TIP
        receipt = self.mine([self.sign(key, to, data, value=value, gas=gas)])[0]
        sent = Sent(receipt, self.abi.decode_logs(receipt.logs), simulation, gas_price=price)
        if simulation.success and decode is not None:
            sent.result = self.abi.decode(*decode, simulation.output)
        elif not simulation.success:
            sent.reason = decode_revert_reason(simulation.output)
        return sent

    def send(
        self, key: DevKey, target: str, function: str, *args: Any, value: int = 0,
        gas: int = 3_000_000,
    ) -> Sent:  # fmt: skip
        """Call a precompile's method in a transaction of its own."""
        data = self.abi.encode(target, function, *args)
        return self.send_data(key, self.targets[target], data, value=value, gas=gas,
                              decode=(target, function))  # fmt: skip

    def simulate(
        self, sender: Address, to: bytes | None, data: bytes, *, value: int = 0,
        gas: int = 3_000_000,
    ) -> CallResult:  # fmt: skip
        """Run a message on the head state in the context of the next block."""
        parent = self.head
        context = parent.copy(block_number=parent.block_number + 1, parent_hash=parent.hash,
                              timestamp=parent.timestamp + 1)  # fmt: skip
        request = CallRequest(sender, None if to is None else Address(to), data, Wei(value),
                              Gas(gas))  # fmt: skip
        return run_call(self.chain, self.store.db, context, request, Gas(gas))

    def view(self, target: str, function: str, *args: Any, sender: bytes = bytes(20)) -> Any:
        """The decoded result of a precompile view at the head (fails on a revert)."""
        result = self.simulate(Address(sender), self.targets[target],
                               self.abi.encode(target, function, *args))  # fmt: skip
        assert result.success, decode_revert_reason(result.output)
        return self.abi.decode(target, function, result.output)

    def reason(self, sender: bytes, target: str, function: str, *args: Any, value: int = 0) -> str:
        """The reason a precompile call would revert with now (fails if it succeeds)."""
        result = self.simulate(Address(sender), self.targets[target],
                               self.abi.encode(target, function, *args), value=value)  # fmt: skip
        assert not result.success, f"{function} unexpectedly succeeded"
        reason = decode_revert_reason(result.output)
        assert reason is not None, f"{function} reverted without a reason: {result}"
        return reason

    def deploy(self, key: DevKey, bytecode: str, *, value: int = 0) -> Address:
        """Deploy a contract; returns its address."""
        nonce = self.state().get_nonce(key.address)
        receipt = self.mine([self.sign(key, None, bytes.fromhex(bytecode[2:]), value=value,
                                       gas=5_000_000)])[0]  # fmt: skip
        assert receipt.state_root == b"\x01", "deployment failed"
        return Address(generate_contract_address(key.address, nonce))

    def _next_base_fee(self) -> int:
        return int(compute_next_base_fee(self.head))

    def _genesis_header(self) -> BlockHeaderAPI:
        header = self.store.get_header(0)
        assert header is not None
        return header

    # --- state ----------------------------------------------------------------------------------

    def balance(self, address: bytes) -> int:
        return int(self.state().get_balance(Address(address)))

    def pending(self, address: bytes) -> int:
        return int(self.view("attribution", "pendingRewards", address))

    def fingerprint(self) -> dict[str, tuple[str, str]]:
        """(storage root, balance) of each attribution precompile at the head."""
        return {
            name: _account_summary(self.store.db, self.head.state_root, address)
            for name, address in PRECOMPILES.items()
        }

    def total_supply(self) -> int:
        """The sum of every account's balance in the state trie at the head."""
        trie = HexaryTrie(self.store.db, root_hash=self.head.state_root)
        return sum(rlp.decode(raw, sedes=RlpAccount).balance
                   for raw in NodeIterator(trie).values())  # fmt: skip

    def genesis_supply(self) -> int:
        trie = HexaryTrie(self.store.db, root_hash=self._genesis_header().state_root)
        return sum(rlp.decode(raw, sedes=RlpAccount).balance
                   for raw in NodeIterator(trie).values())  # fmt: skip

    def proof(self, address: bytes, slots: list[int]) -> dict[str, Any]:
        return get_proof(self.store.db, self.head.state_root, address, slots)


def _account_summary(db: Any, root: bytes, address: bytes) -> tuple[str, str]:
    proof = get_proof(db, root, address, [])
    return proof["storageHash"], proof["balance"]


def content(label: str) -> bytes:
    """A content hash for a test document."""
    return keccak(label.encode())


def intrinsic_gas(data: bytes) -> int:
    """21,000 plus 4 per zero and 16 per non-zero calldata byte (no access list)."""
    zeros = data.count(0)
    return 21_000 + 4 * zeros + 16 * (len(data) - zeros)


def expected_gas_used(data: bytes, execution: int) -> int:
    """Gas a transaction with this calldata uses when its call costs `execution` gas: the
    intrinsic 21,000 plus 4 per zero and 16 per non-zero calldata byte, but at least EIP-7623's
    floor of 21,000 plus 10 per calldata token (a zero byte is one token, a non-zero byte four)."""
    zeros = data.count(0)
    nonzeros = len(data) - zeros
    standard = 21_000 + 4 * zeros + 16 * nonzeros + execution
    floor = 21_000 + 10 * (zeros + 4 * nonzeros)
    return max(standard, floor)


@dataclass(frozen=True)
class Story:
    """What `tell_story` set up: a public Datanet (1) with contributions 1 (Alice) and 2 (Bob)
    accepted and 3 (Carol) rejected, version 1 published, model 1 citing it, operated by
    OPERATOR at `FEE`, and agent 1 of AGENT_OWNER serving it."""

    datanet: int = 1
    accepted: tuple[int, ...] = (1, 2)
    rejected: int = 3
    version: int = 1
    model: int = 1
    agent: int = 1


FEE = 10**15
"""The story model's fee per inference."""


def tell_story(chain: AttributionChain) -> Story:
    """Set up the usual Datanet, model and agent (see `Story`)."""
    chain.mine()
    assert chain.send(OWNER, "datanets", "createDatanet", "Medical QA", "ipfs://meta", 0, True).ok
    for key, label in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")):
        assert chain.send(key, "datanets", "contribute", 1, content(label), f"ipfs://{label}",
                          1000).ok  # fmt: skip
    for contribution, accept in ((1, True), (2, True), (3, False)):
        assert chain.send(OWNER, "datanets", "review", contribution, accept, 80).ok
    assert chain.send(OWNER, "datanets", "publishVersion", 1).ok
    assert chain.send(MODEL_OWNER, "models", "registerModel", "med-7b", "hf://med-7b", [1], [1],
                      OPERATOR.address, FEE, 0).ok  # fmt: skip
    assert chain.send(AGENT_OWNER, "agents", "registerAgent", 1, "agent://triage",
                      value=chain.params.min_agent_stake).ok  # fmt: skip
    return Story()
