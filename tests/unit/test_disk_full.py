"""A write LevelDB refuses (a full disk above all) becomes one `DatabaseError` naming the
directory, which the CLI prints as one line. The real full disk, on a tmpfs, is in
`tests/process/test_disk_full.py` (it needs root); here LevelDB's error is simulated."""

from pathlib import Path
from typing import Any

import plyvel
import pytest

from openledger.state.db import DatabaseError, DiskFull, LevelDB


class _RefusingDB:
    """plyvel's DB as it behaves on a full disk: reads work, every write raises."""

    def __init__(self, real: Any, message: bytes) -> None:
        self._real, self._message = real, message
        self.closed = False

    def get(self, key: bytes) -> Any:
        return self._real.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        raise plyvel.IOError(self._message)

    def write_batch(self, **options: Any) -> Any:
        raise plyvel.IOError(self._message)

    def close(self) -> None:
        self._real.close()


@pytest.mark.parametrize(
    ("message", "error", "phrase"),
    [
        (b"IO error: 000003.log: No space left on device", DiskFull, "is full"),
        (b"IO error: 000003.log: Input/output error", DatabaseError, "Input/output error"),
    ],
)
def test_a_refused_write_names_the_directory(
    tmp_path: Path, message: bytes, error: type[DatabaseError], phrase: str
) -> None:
    db = LevelDB(tmp_path / "db")
    db[b"kept"] = b"1"
    db._db = _RefusingDB(db._db, message)  # type: ignore[assignment]
    try:
        for write in (lambda: db.write({b"k": b"v"}), lambda: db.__setitem__(b"k", b"v")):
            with pytest.raises(error) as raised:
                write()
            assert str(tmp_path / "db") in str(raised.value)
            assert phrase in str(raised.value)
            assert "\n" not in str(raised.value)
        assert db[b"kept"] == b"1"
    finally:
        db.close()
