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
