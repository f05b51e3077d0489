"""One in-process chain for tests, built the way the node builds its blocks.

Every block starts from a template (`consensus.chain_rules.make_template`: `extraData` is the hash
of the parent's stored commit certificate, `mixHash` derived from it, the signers of the parent's
commit handed to the block hooks), is built by the node's `node.chain.start_block`, sealed by the
dev chain's `SoloSealer` (a real, verifiable commit certificate) and committed with it in one
batch, as `openledger dev` does. So the path a unit, attribution or staking test runs is the
node's, sealing rules included.

Tests that simulate commits signed by others (downtime, rewards) name the `signers` of a block;
that replaces only the signers the block hooks see.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

from eth.abc import BlockHeaderAPI, StateAPI

from openledger.consensus.chain_rules import BlockTemplate, make_template
from openledger.genesis.model import Genesis
from openledger.genesis.types import Address
from openledger.node.chain import start_block
from openledger.node.sealing import SoloSealer
from openledger.state.execute import BlockBuilder, Chain
from openledger.state.fork import OpenLedgerVM
from openledger.state.store import ChainStore, ExecutedBlock
from openledger.state.transactions import decode_transaction


@dataclass
class ChainHarness:
    """A chain store in a directory, and blocks added to it on the node's build path."""

    store: ChainStore
    chain: Chain
    sealer: SoloSealer

    @classmethod
    def open_chain(
        cls, path: Path, genesis: Genesis, vm_class: type[OpenLedgerVM], sealer_key: bytes
    ) -> Self:
        """Open (or create) the chain of `genesis` (as the node stores it) in `path`; blocks are
        sealed with `sealer_key`."""
        store = ChainStore.open(path, genesis, vm_class)
        return cls(
            store, Chain(vm_class, genesis.chain_id), SoloSealer(sealer_key, genesis.chain_id)
        )

    @property
    def head(self) -> BlockHeaderAPI:
        """The committed head."""
        return self.store.head

    def state(self) -> StateAPI:
        """The state after the head."""
        return self.store.state_at(self.store.head)

    def template(
        self,
        *,
        proposer: Address | None = None,
        timestamp: int | None = None,
        seconds: int = 1,
        signers: Sequence[Address] | None = None,
    ) -> BlockTemplate:
        """The template of the next block: `seconds` after the head unless `timestamp` is given,
        proposed by the sealer unless `proposer` is given."""
        parent = self.head
        template = make_template(
            self.sealer.address if proposer is None else proposer,
            parent.timestamp + seconds if timestamp is None else timestamp,
            self.store.get_commit(parent.block_number),
        )
        if signers is not None:
            template = replace(template, last_commit_signers=tuple(signers))
        return template

    def builder(self, template: BlockTemplate | None = None, **fields: Any) -> BlockBuilder:
        """The node's builder of the next block, from `template` or `self.template(**fields)`."""
        return start_block(self.chain, self.store, self.head, template or self.template(**fields))

    def build(
        self, raws: Iterable[bytes] = (), template: BlockTemplate | None = None, **fields: Any
    ) -> ExecutedBlock:
        """The next block with these transactions, executed and not committed; an invalid
        transaction raises `InvalidTransaction`."""
        builder = self.builder(template, **fields)
        for raw in raws:
            builder.add_transaction(decode_transaction(raw, self.chain.vm_class))
        return builder.finish()

    def execute(
        self, raws: Iterable[bytes] = (), template: BlockTemplate | None = None, **fields: Any
    ) -> ExecutedBlock:
        """`build` (a suite's chain may give `execute` its own return value)."""
        return self.build(raws, template, **fields)

    def commit(self, executed: ExecutedBlock, certificate: bytes | None = None) -> None:
        """Commit `executed` as the new head with `certificate`, by default the sealer's."""
        if certificate is None:
            certificate = self.sealer.seal(executed.block.header)
        self.store.commit(executed, certificate)

    def mine(
        self, raws: Iterable[bytes] = (), template: BlockTemplate | None = None, **fields: Any
    ) -> ExecutedBlock:
        """Execute, seal and commit the next block."""
        executed = self.build(raws, template, **fields)
        self.commit(executed)
        return executed

    def close(self) -> None:
        """Close the store."""
        self.store.close()
