"""The LevelDB database (through plyvel) behind everything the node stores.

Two classes give py-evm the `AtomicDatabaseAPI` it expects:

- `LevelDB`, the on-disk database. Its own `atomic_batch()` buffers writes in memory, lets the code
  inside the batch read them back, and writes them in one LevelDB write batch at the end.
- `Overlay`, a readable layer of uncommitted writes over any database. Block execution runs in an
  overlay; the chain store later commits the overlay's changes, plus the block's indexes and the
  head pointer, with `LevelDB.write()`: one LevelDB batch per block.

LevelDB applies a write batch atomically (its log record is replayed whole or not at all), so a
process killed at any moment leaves either all of a block or none of it.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import plyvel
from eth.abc import AtomicWriteBatchAPI, DatabaseAPI
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB
from eth.db.diff import DBDiffTracker, DiffMissingError

from openledger.genesis.errors import OpenLedgerError

Changes = Mapping[bytes, bytes | None]
"""Keys to write; `None` deletes the key."""


class DatabaseError(OpenLedgerError):
    """The data directory cannot be opened or written."""


class DiskFull(DatabaseError):
    """A write failed for lack of space on the data directory's disk."""


class LevelDB(BaseAtomicDB):
    """A plyvel database that py-evm can use directly."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._db = plyvel.DB(
                str(path),
                create_if_missing=create,
                lru_cache_size=64 * 1024 * 1024,
                max_open_files=512,
            )
        except plyvel.IOError as error:
            raise DatabaseError(
                f"cannot open the database in {path}: {error}. Is another node running on "
                "this data directory?"
            ) from error
        except plyvel.Error as error:
            raise DatabaseError(f"cannot open the database in {path}: {error}") from error
        self.path = path

    def __getitem__(self, key: bytes) -> bytes:
        value = self._db.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def get_or_none(self, key: bytes) -> bytes | None:
        """The value at `key`, or None; one lookup instead of a membership test and a read."""
        value: bytes | None = self._db.get(key)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        with self._writing():
            self._db.put(key, value)

    def __delitem__(self, key: bytes) -> None:
        if self._db.get(key) is None:
            raise KeyError(key)
        with self._writing():
            self._db.delete(key)

    def _exists(self, key: bytes) -> bool:
        return self._db.get(key) is not None

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        overlay = Overlay(self)
        yield overlay
        self.write(overlay.changes())

    def write(self, changes: Changes, *, sync: bool = False) -> None:
        """Apply `changes` in one atomic LevelDB write batch."""
        with self._writing(), self._db.write_batch(transaction=True, sync=sync) as batch:
            for key, value in changes.items():
                if value is None:
                    batch.delete(key)
                else:
                    batch.put(key, value)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn a failed write (a full disk above all) into one line naming the directory: the
        node stops on it, and LevelDB's log lets it start again once the cause is gone."""
        try:
            yield
        except plyvel.Error as error:
            reason = error.args[0] if error.args else error
            text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
            if "No space left" in text:
                raise DiskFull(
                    f"the disk holding {self.path} is full (no space left on device); free some "
                    "space and start the node again"
                ) from error
            raise DatabaseError(f"cannot write to the database in {self.path}: {text}") from error

    def iterate(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Committed (key, value) pairs with `start <= key < stop`, in key order."""
        with self._db.iterator(start=start, stop=stop) as iterator:
            yield from iterator

    def iterate_reverse(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Committed (key, value) pairs with `start <= key < stop`, in reverse key order."""
        with self._db.iterator(start=start, stop=stop, reverse=True) as iterator:
            yield from iterator

    def close(self) -> None:
        """Close the database; later use raises."""
        if not self._db.closed:
            self._db.close()


class Overlay(BaseAtomicDB, AtomicWriteBatchAPI):
    """Uncommitted writes over a database, readable by the code that made them.

    Nested `atomic_batch()` contexts (py-evm's ChainDB and AccountDB open their own) commit into
    this overlay, never into the database underneath.
    """

    def __init__(self, base: DatabaseAPI) -> None:
        self._base = base
        self._tracker = DBDiffTracker()

    def __getitem__(self, key: bytes) -> bytes:
        try:
            return self._tracker[key]
        except DiffMissingError as missing:
            if missing.is_deleted:
                raise KeyError(key) from None
            return self._base[key]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._tracker[key] = value

    def __delitem__(self, key: bytes) -> None:
        if key not in self:
            raise KeyError(key)
        del self._tracker[key]

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        with AtomicDBWriteBatch._commit_unless_raises(self) as batch:
            yield batch

    def changes(self) -> dict[bytes, bytes | None]:
        """Every write made in this overlay; deleted keys map to None."""
        diff = self._tracker.diff()
        changes: dict[bytes, bytes | None] = dict(diff.pending_items())
        for key in diff.deleted_keys():
            changes[key] = None
        return changes
