"""The key schema of the node's LevelDB.

py-evm's ChainDB owns these keys (see `eth.db.schema.SchemaV1`):

| key | value |
| --- | --- |
| 32-byte Keccak hash of a trie node | the RLP trie node (state, storage, transaction and receipt tries) |
| 32-byte Keccak hash of contract code | the code |
| 32-byte block hash | the RLP block header |
| `v1:canonical_head_hash` | hash of the head block: **the head pointer** |
| `block-number-to-hash:<decimal number>` | RLP hash of the canonical block at that number |
| `block-hash-to-score:<repr of hash>` | RLP score (unused by this chain's rules, kept by ChainDB) |
| `transaction-hash-to-block:<repr of hash>` | RLP (block number, index) of a canonical transaction |
| `v1:header_chain_gaps`, `v1:chain_gaps` | ChainDB bookkeeping |

Our own keys all start with `ol:`, and none is 32 bytes long, so they cannot collide with hashes:

| key | value |
| --- | --- |
| `ol:meta:genesis` | hash of the genesis block this directory was created from |
| `ol:meta:version` | schema version, one byte |
| `ol:receipts:<32-byte block hash>` | RLP list of the block's encoded receipts, in order |
| `ol:commit:<8-byte big-endian number>` | the commit certificate of the canonical block at that number |
| `ol:log:a:<20-byte address><8-byte number>` | empty: the block has a log emitted by that address |
| `ol:log:t:<32-byte topic><8-byte number>` | empty: the block has a log with that topic (any position) |
| `ol:consensus:<name>` | consensus records (last signed vote, lock), written with sync=True |
| `ol:impersonated:<32-byte block hash>` | dev node only: RLP list of (index, sender) of the block's impersonated transactions |

Everything that belongs to one block is written in one LevelDB batch, with the head pointer.
"""

SCHEMA_VERSION = b"\x01"

GENESIS_HASH_KEY = b"ol:meta:genesis"
VERSION_KEY = b"ol:meta:version"
CANONICAL_HEAD_KEY = b"v1:canonical_head_hash"

_RECEIPTS = b"ol:receipts:"
_COMMIT = b"ol:commit:"
LOG_ADDRESS_PREFIX = b"ol:log:a:"
LOG_TOPIC_PREFIX = b"ol:log:t:"
_CONSENSUS = b"ol:consensus:"
_IMPERSONATED = b"ol:impersonated:"


def encode_number(number: int) -> bytes:
    """A block number as 8 big-endian bytes, so that keys sort by number."""
    return number.to_bytes(8, "big")


def receipts_key(block_hash: bytes) -> bytes:
    """Key of a block's receipts."""
    return _RECEIPTS + block_hash


def commit_key(number: int) -> bytes:
    """Key of the commit certificate of the canonical block at `number`."""
    return _COMMIT + encode_number(number)


def log_address_key(address: bytes, number: int) -> bytes:
    """Index entry: block `number` has a log emitted by `address`."""
    return LOG_ADDRESS_PREFIX + address + encode_number(number)


def log_topic_key(topic: bytes, number: int) -> bytes:
    """Index entry: block `number` has a log with `topic`."""
    return LOG_TOPIC_PREFIX + topic + encode_number(number)


def consensus_key(name: str) -> bytes:
    """Key of a consensus record."""
    return _CONSENSUS + name.encode()


def impersonated_key(block_hash: bytes) -> bytes:
    """Key of the senders of a dev block's impersonated transactions (they have no real
    signature)."""
    return _IMPERSONATED + block_hash
