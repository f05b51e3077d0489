"""The Keccak-256 backend every part of the node hashes with.

py-evm, trie, rlp, eth-keys and eth-utils all hash through one shared object,
`eth_hash.auto.keccak`, whose backend eth-hash picks on first use: pycryptodome before pysha3.
pycryptodome creates and frees a Python hash object per call (about 9 us for a 64-byte input
here); safe-pysha3, a C extension with the `pysha3` interface, takes about 2.4 us through eth-hash.
Both compute the same function (the differential test in tests/unit/test_fast_paths.py compares
whole chains hashed with each), so `use_fastest_backend` points the shared object at pysha3 when
it is installed, unless `ETH_HASH_BACKEND` names a backend.
"""

import os

from eth_hash.auto import keccak
from eth_hash.utils import load_backend


def use_fastest_backend() -> str:
    """Make the shared Keccak-256 use pysha3 if installed; return the backend now in use."""
    if os.environ.get("ETH_HASH_BACKEND"):
        return os.environ["ETH_HASH_BACKEND"]
    return use_backend("pysha3")


def use_backend(name: str) -> str:
    """Make the shared Keccak-256 use eth-hash backend `name` ("pysha3", "pycryptodome")."""
    try:
        backend = load_backend(name)
    except ImportError:
        return "auto"
    keccak.hasher = backend.keccak256
    keccak.preimage = backend.preimage
    return name
