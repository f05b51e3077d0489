"""Merkle proofs of accounts and storage (`eth_getProof`, EIP-1186).

The state trie is keyed by keccak(address) and each storage trie by keccak(slot), both as py-evm
writes them. A proof is the list of RLP trie nodes from the root to the key; verifying it needs
nothing but the state root in the block header.
"""

from typing import Any

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth.db.backends.base import BaseDB
from eth.rlp.accounts import Account
from eth_hash.auto import keccak
from trie import HexaryTrie

EMPTY_CODE_HASH = keccak(b"")


def get_proof(db: BaseDB, state_root: bytes, address: bytes, slots: list[int]) -> dict[str, Any]:
    """The EIP-1186 proof object of `address` and its storage `slots` at `state_root`."""
    state = HexaryTrie(db, root_hash=state_root)
    account_key = keccak(address)
    encoded = state.get(account_key)
    account = rlp.decode(encoded, sedes=Account) if encoded else Account()
    storage = HexaryTrie(db, root_hash=account.storage_root)
    storage_proofs = []
    for slot in slots:
        slot_key = keccak(slot.to_bytes(32, "big"))
        raw_value = storage.get(slot_key)
        value = rlp.decode(raw_value, sedes=rlp.sedes.big_endian_int) if raw_value else 0
        storage_proofs.append(
            {
                "key": "0x" + slot.to_bytes(32, "big").hex(),
                "value": hex(value),
                "proof": _encode_nodes(storage.get_proof(slot_key))
                if account.storage_root != BLANK_ROOT_HASH
                else [],
            }
        )
    return {
        "address": "0x" + address.hex(),
        "accountProof": _encode_nodes(state.get_proof(account_key)),
        "balance": hex(account.balance),
        "codeHash": "0x" + (account.code_hash or EMPTY_CODE_HASH).hex(),
        "nonce": hex(account.nonce),
        "storageHash": "0x" + account.storage_root.hex(),
        "storageProof": storage_proofs,
    }


def _encode_nodes(nodes: Any) -> list[str]:
    return ["0x" + rlp.encode(node).hex() for node in nodes]
