"""The configs that ship with fsp-risk (the repository's ``configs/`` folder), wherever fsp-risk is installed.

A wheel carries them as package data in ``fsp_risk/shipped`` (copied there by ``setup.py`` at build time); a
source checkout, installed editable or not installed, reads the ``configs/`` folder beside the package. So
``fsp-risk run`` with no config works from any folder, and a shipped config can be named without its path.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The config ``fsp-risk run`` and ``fsp-risk whatif`` use when none is given.
DEFAULT_NAME = "oxfordshire-2024-commissioning"


def shipped_dir() -> Path:
    """The folder of shipped configs: the wheel's package data, else the source checkout's ``configs/``."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "shipped"
    return packaged if packaged.is_dir() else package.parent / "configs"


def shipped_configs() -> list[Path]:
    """Every shipped config, by name."""
    return sorted(shipped_dir().glob("*.yaml"))


def _shown(path: Path) -> Path:
    """``path`` relative to the working folder when it lies inside it (as a user would type it), else whole."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def default_config() -> Path:
    """The default shipped config's path."""
    return _shown(shipped_dir() / f"{DEFAULT_NAME}.yaml")


def default_history() -> Path:
    """The published history ``fsp-risk calibrate`` fits to by default."""
    return _shown(shipped_dir() / "history" / "la-children-social-care.csv")


def resolve_config(given: str | os.PathLike) -> Path:
    """A config as typed: a path to a file, else the name of a shipped config (with or without ``.yaml``);
    a name that is neither is returned as typed, for the loader to refuse with the file named."""
    path = Path(given)
    if path.exists() or path.parent != Path("."):
        return path
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name
    shipped = shipped_dir() / f"{stem}.yaml"
    return _shown(shipped) if shipped.is_file() else path


def is_shipped(path: str | os.PathLike) -> bool:
    """Whether ``path`` is inside an installed fsp-risk's package data (a place not to write into)."""
    packaged = Path(__file__).resolve().parents[1] / "shipped"
    try:
        Path(path).resolve().relative_to(packaged)
        return True
    except ValueError:
        return False
