"""A full disk under a real `openledger dev` process: the node stops with one line naming the
directory (no traceback) and a non-zero status, and starts again on the same data once space is
back, with every block it had committed.

The disk is a 24 MiB tmpfs mounted for the test, which needs root (as in CI's container); where
mounting is not allowed the test says so and skips. `tests/unit/test_disk_full.py` covers the same
translation of the error without root.
"""

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import result, rpc, start_node_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path) -> None:
    chunk = b"\x00" * 65536
    with path.open("wb") as filler:
        try:
            for _ in range(10_000):  # far more than the disk holds
                filler.write(chunk)
                filler.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
            return
    pytest.fail("the small disk never filled up")


def test_a_full_disk_stops_the_node_with_one_line_and_it_restarts(
    small_disk: Path, tmp_path: Path
) -> None:
    datadir = small_disk / "chain"
    node = start_node_process(["dev", "--datadir", str(datadir)], tmp_path / "first.log")
    try:
        for _ in range(3):
            result(node.url, "evm_mine")
        committed = int(result(node.url, "eth_blockNumber"), 16)
        _fill(small_disk / "filler")
        for _ in range(500):  # each block writes; the first that cannot stops the node
            if node.process.poll() is not None:
                break
            try:
                response = rpc(node.url, "evm_mine", timeout=10)
            except OSError:
                break
            if "result" in response:
                committed += 1
        status = node.process.wait(30)
    finally:
        node.kill() if node.process.poll() is None else None
    log = node.log()
    assert status != 0, log
    assert "Traceback" not in log, log
    lines = [line for line in log.splitlines() if line.startswith("openledger: ")]
    assert len(lines) == 1, log
    assert f"the disk holding {datadir}" in lines[0]
    assert "is full" in lines[0]

    (small_disk / "filler").unlink()
    again = start_node_process(["dev", "--datadir", str(datadir)], tmp_path / "second.log")
    try:
        assert int(result(again.url, "eth_blockNumber"), 16) >= committed
        result(again.url, "evm_mine")
        assert int(result(again.url, "eth_blockNumber"), 16) >= committed + 1
    finally:
        assert again.stop() == 0, again.log()
