"""`.env.example` documents every environment variable the settings read, so none is a hidden switch."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _variables_read_by_settings() -> set[str]:
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "env"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def test_every_setting_variable_is_documented_in_env_example() -> None:
    variables = _variables_read_by_settings()
    assert "DATABASE_URL" in variables  # the parser found the settings' env reads
    documented = (ROOT / ".env.example").read_text()
    missing = sorted(name for name in variables if f"{name}=" not in documented)
    assert not missing, f"add these to .env.example: {missing}"
