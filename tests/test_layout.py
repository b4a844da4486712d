"""The package's layers: each folder imports only from the layers below it, so data flows one way
(config -> model -> engine -> analysis -> outputs -> app), and modules stay small enough to read."""
import ast
from pathlib import Path

import fsp_risk

PACKAGE = Path(fsp_risk.__file__).parent
#: Lowest first: a module may import from its own layer and those before it.
LAYERS = ("errors", "files", "config", "model", "engine", "analysis", "outputs", "app")


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_every_import_points_down_the_layers():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        here = _layer(path)
        if here not in LAYERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fsp_risk."):
                there = node.module.split(".")[1]
                if there in LAYERS and LAYERS.index(there) > LAYERS.index(here):
                    upward.append(f"{path.relative_to(PACKAGE)} imports {node.module}")
    assert not upward, upward


def test_every_module_in_a_layer_folder():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.stem not in (*LAYERS, "__init__", "__main__"))
    assert not loose, f"modules outside the layer folders: {loose}"


def test_long_modules_say_why():
    long = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 400 and "Over 400 lines" not in (ast.get_docstring(ast.parse(text)) or ""):
            long.append(f"{path.relative_to(PACKAGE)} ({text.count(chr(10))} lines)")
    assert not long, long
