"""The house (docs/architecture.md): no module imports a private name (``_name``) from another app, and the
figures the architecture page quotes are the tree's. The layers and the absence of cycles are checked by
``lint-imports`` (``pyproject.toml``, ``[tool.importlinter]``), which ``bin/test`` runs before pytest."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("jjp", "cases", "charging", "victims", "governance", "api", "alerts", "workspace", "demo")


def _modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield app, path


def private_cross_app_imports() -> list[str]:
    found = []
    for app, path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.split(".")[0]
                if top in APPS and top != app:
                    found += [
                        f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}"
                        for alias in node.names
                        if alias.name.startswith("_") and not alias.name.startswith("__")
                    ]
                    if any(
                        part.startswith("_") and not part.startswith("__") for part in node.module.split(".")
                    ):
                        found.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
    return found


def test_no_app_imports_another_apps_private_names():
    assert private_cross_app_imports() == []
