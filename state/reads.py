"""Account reads shared by the calls made on the same committed state.

Every `eth_call` builds a fresh py-evm state, so every call read the sender, the contract and the
coinbase down through py-evm's journal and cache layers and the state trie to LevelDB, cold, even
when a thousand calls before it had read the same accounts at the same head. `SharedReads` keeps,
per state root (the last few), the encoded accounts read from that root's trie; `attach` puts
it under a new state's account cache, so the next call at that root finds them.

It serves only what the trie at that root holds: a committed state never changes, and the cache
detaches itself (every later read goes to the trie) as soon as anything writes below py-evm's
journal, or the state's root is moved. The call's own changes live in the journal above it and
never reach it.
"""

from typing import Any

from lru import LRU

MISSING = object()
"""Cached answer for an account the trie does not hold."""


class SharedReads:
    """Encoded accounts read from the state tries of the last few state roots (bounded)."""

    def __init__(self, roots: int = 4, accounts: int = 4096) -> None:
        self._roots: LRU = LRU(roots)
        self._accounts = accounts

    def attach(self, state: Any) -> None:
        """Serve `state`'s committed account reads from (and into) the cache of its root."""
        account_db = state._account_db
        root = account_db.state_root
        cache = self._roots.get(root)
        if cache is None:
            cache = self._roots[root] = LRU(self._accounts)
        trie_cache = account_db._trie_cache
        trie_cache._db = _ReadThrough(trie_cache._db, cache, account_db, root)


class _ReadThrough:
    """A read-through cache over the key-access logger of one py-evm `AccountDB`."""

    def __init__(self, db: Any, cache: LRU, account_db: Any, root: bytes) -> None:
        self._db = db
        self._cache: LRU | None = cache
        self._account_db = account_db
        self._root = root

    def _shared(self) -> LRU | None:
        if self._cache is not None and self._account_db.state_root != self._root:
            self._cache = None
        return self._cache

    def __getitem__(self, key: bytes) -> bytes:
        cache = self._shared()
        if cache is None:
            return self._db[key]  # type: ignore[no-any-return]
        value = cache.get(key)
        if value is None:
            try:
                value = self._db[key]
            except KeyError:
                cache[key] = MISSING
                raise
            cache[key] = value
        if value is MISSING:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __contains__(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._cache = None
        self._db[key] = value

    def __delitem__(self, key: bytes) -> None:
        self._cache = None
        del self._db[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)
