"""The import directions of ARCHITECTURE.md: each folder imports only the folders it may."""

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


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_folder_imports_only_what_the_architecture_allows(folder: str) -> None:
    offending = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if (
                    parts[0] == "openledger"
                    and len(parts) > 1
                    and parts[1] != folder
                    and parts[1] not in MAY_IMPORT[folder]
                ):
                    offending.append(f"{Path(path).relative_to(REPO)}:{node.lineno} imports {name}")
    assert not offending, "\n".join(offending)
