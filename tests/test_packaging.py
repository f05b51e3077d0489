"""The package installs as the namespace `openledger.*`, with every source file and the CLI."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import REPO

pytestmark = pytest.mark.slow

FOLDERS = ("genesis", "state", "attribution", "consensus", "rpc", "node")


@pytest.mark.timeout(180)
def test_wheel_holds_every_module_under_the_namespace(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(REPO)],
        check=True, timeout=170,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("openledger-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"openledger/{path.relative_to(REPO).as_posix()}"
        for folder in FOLDERS
        for path in (REPO / folder).rglob("*")
        if (path.suffix in (".py", ".sol") or "web" in path.parts)
        and path.is_file()
        and "__pycache__" not in path.parts
    }
    missing = sorted(expected - names)
    assert not missing, f"files missing from the wheel: {missing}"
    top_level = {name.split("/")[0] for name in names}
    assert top_level <= {
        "openledger",
        f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info",
    }
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert (
        "openledger = openledger.node.cli:main"
        in zipfile.ZipFile(wheel).read(entry_points).decode()
    )
