from pathlib import Path

import pytest

import fsp_risk

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


@pytest.fixture(scope="session")
def config_2019():
    return fsp_risk.load_config(CONFIGS / "oxfordshire-2019-business-case.yaml")


@pytest.fixture(scope="session")
def config_2024():
    return fsp_risk.load_config(CONFIGS / "oxfordshire-2024-commissioning.yaml")


@pytest.fixture(autouse=True, scope="session")
def _own_resume_key(tmp_path_factory):
    """Kept blocks are sealed with the user's key (fsp_risk.files.user_key): the tests use a key of their own,
    not the developer's, and so do the runs they start as subprocesses."""
    import os

    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    yield
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old
