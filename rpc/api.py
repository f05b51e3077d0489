"""What the RPC server needs from the node: the `NodeAPI` protocol.

`rpc/` reads committed chain data through the store directly (every read is of committed data
only); everything else (submitting transactions, the mempool, peers, dev controls) goes through
this protocol, which `node/` implements. Tests implement it with fakes.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from eth.abc import BlockHeaderAPI

from openledger.genesis.types import Address, Hash32, Wei
from openledger.state.execute import AccountOverride, Chain
from openledger.state.store import ChainStore


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Progress of a node catching up with its peers (`eth_syncing`)."""

    starting_block: int
    """Head when the sync started."""
    current_block: int
    """Current head."""
    highest_block: int
    """Highest head announced by a peer."""


@dataclass(frozen=True, slots=True)
class CommitView:
    """A block's commit certificate, decoded by the node (`ol_getCommit`)."""

    height: int
    """The committed height."""
    round: int
    """The round in which it was committed."""
    block_hash: bytes
    """The committed block."""
    hash: bytes
    """The certificate's hash (the next block's `extraData`)."""
    precommits: tuple[tuple[bytes, bytes], ...]
    """(validator, signature) of each precommit."""
    encoded: bytes
    """The certificate's RLP encoding, as stored and served to peers."""


class PoolView(Protocol):
    """Read access to the mempool."""

    def get(self, tx_hash: bytes) -> Any: ...

    def pending_and_queued(
        self,
    ) -> tuple[Mapping[Address, list[Any]], Mapping[Address, list[Any]]]: ...

    def __len__(self) -> int: ...


class DevControls(Protocol):
    """Controls only a dev node offers (`evm_*`, `anvil_*`, unlocked accounts)."""

    accounts: Mapping[Address, bytes]
    """Unlocked accounts and their private keys."""
    impersonated: set[Address]
    """Accounts that may send without a key (`anvil_impersonateAccount`)."""
    auto_impersonate: bool
    """Whether any account may send without a key."""

    def submit_impersonated(self, transaction: Any) -> Hash32: ...

    async def mine(self, count: int, timestamp: int | None) -> list[BlockHeaderAPI]: ...

    def set_next_timestamp(self, timestamp: int) -> None: ...

    def increase_time(self, seconds: int) -> int: ...

    def set_automine(self, enabled: bool) -> None: ...

    async def wait_until_mined(self, tx_hash: bytes) -> None: ...

    def is_automine(self) -> bool: ...

    def set_interval(self, seconds: float) -> None: ...

    def drop_transaction(self, tx_hash: bytes) -> bool: ...

    async def set_account(self, address: Address, change: AccountOverride) -> BlockHeaderAPI: ...

    def snapshot(self) -> int: ...

    async def revert(self, snapshot_id: int) -> bool: ...


class NodeAPI(Protocol):
    """The node as the RPC server sees it."""

    chain: Chain
    store: ChainStore
    client_version: str
    dev: DevControls | None

    def submit_transaction(self, raw: bytes) -> Hash32: ...

    def pending_nonce(self, address: Address) -> int: ...

    def next_base_fee(self) -> Wei: ...

    @property
    def pool(self) -> PoolView: ...

    def peer_count(self) -> int: ...

    def sync_status(self) -> SyncStatus | None: ...

    def on_block(self, listener: Callable[[BlockHeaderAPI], None]) -> None: ...

    def on_pending_transaction(self, listener: Callable[[Hash32], None]) -> None: ...

    def consensus_status(self) -> Mapping[str, Any]: ...

    def validator_set(self, height: int) -> Any: ...

    def commit_certificate(self, height: int) -> CommitView | None: ...

    def node_info(self) -> Mapping[str, Any]: ...
