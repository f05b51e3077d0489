"""The import directions of ARCHITECTURE.md: each folder imports only the folders it may, and the
subpackages keep to their rooms (docs/design.md, "Folder map")."""

import ast
from pathlib import Path

import pytest
from helpers import REPO

MAY_IMPORT = {
    "genesis": set(),
    "state": {"genesis"},
    "attribution": {"state", "genesis"},
    "consensus": {"state", "genesis"},
    "rpc": {"state", "genesis"},
    "node": {"genesis", "state", "attribution", "consensus", "rpc"},
}


SUBPACKAGE_MAY_IMPORT = {
    # The precompile framework is a small package of its own: it needs only the bottom of the
    # graph, so attribution/ and consensus/staking/ build on it without pulling in the chain store.
    "state/precompile": ("openledger.genesis", "openledger.state.precompile"),
    # The transport knows nothing of what it carries.
    "node/p2p": ("openledger.genesis", "openledger.node.p2p"),
}
"""Folders whose imports of our code are limited to these module prefixes."""

BFT_CORE_MAY_NOT_IMPORT = ("openledger.consensus.staking",)
"""The BFT core (`consensus/` outside `staking/`) never touches EVM storage."""


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _is_under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_folder_imports_only_what_the_architecture_allows(folder: str) -> None:
    offending = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for lineno, name in _imports(path):
            parts = name.split(".")
            if (
                parts[0] == "openledger"
                and len(parts) > 1
                and parts[1] != folder
                and parts[1] not in MAY_IMPORT[folder]
            ):
                offending.append(f"{Path(path).relative_to(REPO)}:{lineno} imports {name}")
    assert not offending, "\n".join(offending)


@pytest.mark.parametrize("folder", sorted(SUBPACKAGE_MAY_IMPORT))
def test_subpackage_imports_only_its_allowed_prefixes(folder: str) -> None:
    allowed = SUBPACKAGE_MAY_IMPORT[folder]
    offending = [
        f"{path.relative_to(REPO)}:{lineno} imports {name}"
        for path in sorted((REPO / folder).rglob("*.py"))
        for lineno, name in _imports(path)
        if name.startswith("openledger.") and not any(_is_under(name, p) for p in allowed)
    ]
    assert not offending, "\n".join(offending)


def test_the_bft_core_does_not_import_staking() -> None:
    offending = [
        f"{path.relative_to(REPO)}:{lineno} imports {name}"
        for path in sorted((REPO / "consensus").glob("*.py"))
        for lineno, name in _imports(path)
        if any(_is_under(name, prefix) for prefix in BFT_CORE_MAY_NOT_IMPORT)
    ]
    assert not offending, "\n".join(offending)


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_the_product_imports_no_test_code(folder: str) -> None:
    """Test doubles and harnesses live in `tests/` (`support`, `helpers`), never in the product."""
    offending = [
        f"{path.relative_to(REPO)}:{lineno} imports {name}"
        for path in sorted((REPO / folder).rglob("*.py"))
        for lineno, name in _imports(path)
        if name.split(".")[0] in ("support", "helpers", "tests")
    ]
    assert not offending, "\n".join(offending)


def test_every_product_subpackage_is_installed() -> None:
    """Each folder with an `__init__.py` is listed in pyproject.toml's packages and package-dir."""
    pyproject = (REPO / "pyproject.toml").read_text()
    missing = []
    for folder in sorted(MAY_IMPORT):
        for init in sorted((REPO / folder).rglob("__init__.py")):
            relative = init.parent.relative_to(REPO).as_posix()
            package = "openledger." + relative.replace("/", ".")
            if f'"{package}",' not in pyproject or f'"{package}" = "{relative}"' not in pyproject:
                missing.append(package)
    assert not missing, f"not in pyproject.toml: {missing}"
