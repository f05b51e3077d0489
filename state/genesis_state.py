"""The genesis block: its state, written into a database, and its header.

The genesis hash is a pure function of the genesis file: the state root of the alloc and the
header fields the file sets, everything else fixed. Two nodes with the same file agree on it, and
a node refuses a data directory made from another file.
"""

from eth.abc import AtomicDatabaseAPI, BlockHeaderAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA256, EMPTY_UNCLE_HASH
from eth.db.account import AccountDB
from eth.vm.forks.prague.blocks import PragueBlockHeader

from openledger.genesis.model import Genesis
from openledger.genesis.types import BlockNumber, Hash32


def build_genesis_header(genesis: Genesis, db: AtomicDatabaseAPI) -> BlockHeaderAPI:
    """Write the genesis alloc into `db` and return the genesis header."""
    accounts = AccountDB(db)
    for address, account in genesis.alloc:
        accounts.set_balance(address, account.balance)
        accounts.set_nonce(address, account.nonce)
        accounts.set_code(address, account.code)
        for slot, value in account.storage:
            accounts.set_storage(address, slot, value)
    accounts.persist()
    return PragueBlockHeader(
        parent_hash=Hash32(b"\x00" * 32),
        uncles_hash=EMPTY_UNCLE_HASH,
        coinbase=genesis.coinbase,
        state_root=accounts.state_root,
        transaction_root=BLANK_ROOT_HASH,
        receipt_root=BLANK_ROOT_HASH,
        bloom=0,
        difficulty=0,
        block_number=BlockNumber(0),
        gas_limit=genesis.gas_limit,
        gas_used=0,
        timestamp=genesis.timestamp,
        extra_data=genesis.extra_data,
        mix_hash=genesis.mix_hash,
        nonce=b"\x00" * 8,
        base_fee_per_gas=genesis.base_fee,
        withdrawals_root=BLANK_ROOT_HASH,
        blob_gas_used=0,
        excess_blob_gas=0,
        parent_beacon_block_root=Hash32(b"\x00" * 32),
        requests_hash=EMPTY_SHA256,
    )
