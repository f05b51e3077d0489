"""LevelDB and Overlay: uncommitted writes stay in the overlay until one atomic write."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openledger.state.db import DatabaseError, LevelDB, Overlay


@pytest.fixture
def db(tmp_path: Path) -> Iterator[LevelDB]:
    database = LevelDB(tmp_path / "db")
    try:
        yield database
    finally:
        database.close()


# --- LevelDB -------------------------------------------------------------------------------------


def test_values_survive_a_close_and_reopen(tmp_path: Path) -> None:
    first = LevelDB(tmp_path / "db")
    first.write({b"a": b"1", b"b": b"2"})
    first.close()

    second = LevelDB(tmp_path / "db")
    try:
        assert (second[b"a"], second[b"b"]) == (b"1", b"2")
    finally:
        second.close()


def test_a_second_open_of_the_same_directory_fails_clearly(db: LevelDB) -> None:
    with pytest.raises(DatabaseError, match="another node running") as raised:
        LevelDB(db.path)

    assert str(db.path) in str(raised.value)


def test_missing_keys(db: LevelDB) -> None:
    assert db.get_or_none(b"nothing") is None
    assert b"nothing" not in db
    with pytest.raises(KeyError):
        db[b"nothing"]
    with pytest.raises(KeyError):
        del db[b"nothing"]


def test_write_puts_and_deletes(db: LevelDB) -> None:
    db.write({b"a": b"1", b"b": b"2"})

    db.write({b"a": None, b"c": b"3"})

    assert (db.get_or_none(b"a"), db[b"b"], db[b"c"]) == (None, b"2", b"3")


class _Watched(dict[bytes, bytes | None]):
    """Changes whose iteration records what the database held at each step, and may fail."""

    def __init__(self, db: LevelDB, items: dict[bytes, bytes | None], fail_after: int = -1):
        super().__init__(items)
        self.db = db
        self.fail_after = fail_after
        self.seen_during_write: list[bytes | None] = []

    def items(self) -> Iterator[tuple[bytes, bytes | None]]:  # type: ignore[override]
        for index, (key, value) in enumerate(super().items()):
            if index == self.fail_after:
                raise RuntimeError("the disk caught fire")
            yield key, value
            self.seen_during_write.append(self.db.get_or_none(key))


def test_a_write_is_visible_only_after_it_returns(db: LevelDB) -> None:
    changes = _Watched(db, {b"k1": b"1", b"k2": b"2", b"k3": b"3"})

    db.write(changes)

    assert changes.seen_during_write == [None, None, None]
    assert [db[b"k1"], db[b"k2"], db[b"k3"]] == [b"1", b"2", b"3"]


def test_a_write_that_fails_part_way_writes_nothing(db: LevelDB) -> None:
    db.write({b"k1": b"old"})
    changes = _Watched(db, {b"k1": None, b"k2": b"2", b"k3": b"3"}, fail_after=2)

    with pytest.raises(RuntimeError):
        db.write(changes)

    assert (db.get_or_none(b"k1"), db.get_or_none(b"k2")) == (b"old", None)


def test_atomic_batch_reads_its_writes_and_writes_them_at_the_end(db: LevelDB) -> None:
    db[b"kept"] = b"1"
    with db.atomic_batch() as batch:
        batch[b"new"] = b"2"
        del batch[b"kept"]
        assert (batch.get(b"new"), b"kept" in batch) == (b"2", False)
        assert (db.get_or_none(b"new"), db.get_or_none(b"kept")) == (None, b"1")

    assert (db.get_or_none(b"new"), db.get_or_none(b"kept")) == (b"2", None)


def test_atomic_batch_is_discarded_on_an_exception(db: LevelDB) -> None:
    with pytest.raises(RuntimeError), db.atomic_batch() as batch:
        batch[b"new"] = b"2"
        raise RuntimeError("abandon")

    assert db.get_or_none(b"new") is None


@pytest.mark.parametrize(
    ("start", "stop", "forward"),
    [
        (b"b", b"d", [b"b", b"c"]),
        (b"a", b"e", [b"a", b"b", b"c", b"d"]),
        (b"bb", b"c", []),
        (b"b", b"b", []),
        (b"c", b"zz", [b"c", b"d"]),
        (b"", b"\xff", [b"a", b"b", b"c", b"d"]),
    ],
)
def test_iterate_covers_start_up_to_but_not_stop(
    db: LevelDB, start: bytes, stop: bytes, forward: list[bytes]
) -> None:
    db.write({key: key.upper() for key in (b"a", b"b", b"c", b"d")})

    assert list(db.iterate(start, stop)) == [(key, key.upper()) for key in forward]
    assert [key for key, _ in db.iterate_reverse(start, stop)] == forward[::-1]


def test_iterate_sees_only_committed_keys(db: LevelDB) -> None:
    overlay = Overlay(db)
    overlay[b"a"] = b"1"

    assert list(db.iterate(b"", b"\xff")) == []


# --- Overlay -------------------------------------------------------------------------------------


def test_an_overlay_reads_its_own_writes_and_falls_through_to_the_base(db: LevelDB) -> None:
    db.write({b"base": b"1", b"shadowed": b"old"})
    overlay = Overlay(db)

    overlay[b"own"] = b"2"
    overlay[b"shadowed"] = b"new"

    assert (overlay[b"base"], overlay[b"own"], overlay[b"shadowed"]) == (b"1", b"2", b"new")
    assert (db.get_or_none(b"own"), db[b"shadowed"]) == (None, b"old")


def test_an_overlay_hides_keys_it_deleted(db: LevelDB) -> None:
    db.write({b"base": b"1"})
    overlay = Overlay(db)
    overlay[b"own"] = b"2"

    del overlay[b"base"]
    del overlay[b"own"]

    assert b"base" not in overlay and b"own" not in overlay
    with pytest.raises(KeyError):
        overlay[b"base"]
    assert db[b"base"] == b"1"
    assert overlay.changes() == {b"base": None, b"own": None}


def test_deleting_a_key_that_is_nowhere_raises_key_error(db: LevelDB) -> None:
    with pytest.raises(KeyError):
        del Overlay(db)[b"missing"]


def test_a_key_written_after_its_delete_is_back(db: LevelDB) -> None:
    db.write({b"k": b"1"})
    overlay = Overlay(db)

    del overlay[b"k"]
    overlay[b"k"] = b"2"

    assert overlay[b"k"] == b"2"
    assert overlay.changes() == {b"k": b"2"}


def test_committing_the_changes_makes_the_base_equal_to_the_overlay(db: LevelDB) -> None:
    db.write({b"a": b"1", b"b": b"2"})
    overlay = Overlay(db)
    overlay[b"a"] = b"10"
    del overlay[b"b"]
    overlay[b"c"] = b"3"

    db.write(overlay.changes())

    assert list(db.iterate(b"", b"\xff")) == [(b"a", b"10"), (b"c", b"3")]


def test_a_batch_nested_in_a_database_batch_commits_into_the_outer_batch(db: LevelDB) -> None:
    with db.atomic_batch() as outer:
        with outer.atomic_batch() as inner:  # type: ignore[attr-defined]
            inner[b"inner"] = b"2"
        assert outer[b"inner"] == b"2"
        assert db.get_or_none(b"inner") is None

    assert db[b"inner"] == b"2"


def test_a_failed_nested_batch_is_discarded_and_the_outer_batch_still_commits(
    db: LevelDB,
) -> None:
    with db.atomic_batch() as outer:
        outer[b"outer"] = b"1"
        with pytest.raises(RuntimeError), outer.atomic_batch() as inner:  # type: ignore[attr-defined]
            inner[b"inner"] = b"2"
            del inner[b"outer"]
            raise RuntimeError("abandon")

    assert (db.get_or_none(b"outer"), db.get_or_none(b"inner")) == (b"1", None)


def test_overlay_batches_opened_inside_each_other_commit_into_the_overlay(db: LevelDB) -> None:
    overlay = Overlay(db)

    with overlay.atomic_batch() as first:
        first[b"first"] = b"1"
        with overlay.atomic_batch() as second:
            second[b"second"] = b"2"
        assert overlay[b"second"] == b"2"

    assert (overlay[b"first"], overlay[b"second"]) == (b"1", b"2")
    assert (db.get_or_none(b"first"), db.get_or_none(b"second")) == (None, None)


def test_an_atomic_batch_in_an_overlay_is_discarded_on_an_exception(db: LevelDB) -> None:
    overlay = Overlay(db)
    overlay[b"before"] = b"0"

    with pytest.raises(RuntimeError), overlay.atomic_batch() as batch:
        batch[b"during"] = b"1"
        del batch[b"before"]
        raise RuntimeError("abandon")

    assert (overlay.get(b"during"), overlay[b"before"]) == (None, b"0")
    assert overlay.changes() == {b"before": b"0"}


def test_an_overlay_over_an_overlay_commits_into_the_lower_one(db: LevelDB) -> None:
    lower = Overlay(db)
    upper = Overlay(lower)
    upper[b"k"] = b"1"

    for key, value in upper.changes().items():
        lower[key] = value  # type: ignore[assignment]

    assert lower[b"k"] == b"1" and db.get_or_none(b"k") is None


keys = st.sampled_from([b"a", b"b", b"c", b"d", b"e"])
operations = st.lists(st.tuples(keys, st.none() | st.binary(min_size=1, max_size=3)), max_size=20)


@settings(max_examples=40, deadline=None)
@given(base=st.dictionaries(keys, st.binary(min_size=1, max_size=3)), ops=operations)
def test_an_overlay_behaves_like_a_dict_and_commits_what_it_shows(
    base: dict[bytes, bytes], ops: list[tuple[bytes, bytes | None]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = LevelDB(Path(directory))
        try:
            database.write(dict(base))
            overlay = Overlay(database)
            model = dict(base)
            for key, value in ops:
                if value is None:
                    if key in model:
                        del overlay[key]
                        del model[key]
                else:
                    overlay[key] = value
                    model[key] = value

            for key in (b"a", b"b", b"c", b"d", b"e"):
                assert overlay.get(key) == model.get(key)
                assert (key in overlay) == (key in model)
            assert dict(database.iterate(b"", b"\xff")) == base

            database.write(overlay.changes())

            assert dict(database.iterate(b"", b"\xff")) == model
        finally:
            database.close()
