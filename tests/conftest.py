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


def pytest_configure(config):
    config.addinivalue_line("markers", "print_charts: draw charts as a run does (PNG at 300 dpi and SVG), "
                                       "for tests that check the files themselves")
    config.addinivalue_line("markers", "compressed: write results files compressed, as a run does")


@pytest.fixture(autouse=True)
def _uncompressed_results(request, monkeypatch):
    """Results files in chunks but not compressed, unless a test looks at the compression: zlib is most of a
    resumed run's time in the tests, and the data are the same either way (lossless)."""
    if request.node.get_closest_marker("compressed") is None:
        from fsp_risk.engine import store

        monkeypatch.setattr(store, "COMPRESSION", 0)


@pytest.fixture(autouse=True)
def _draft_charts(request, monkeypatch):
    """Charts as small PNGs unless a test looks at the files: drawing at 300 dpi and in SVG is most of a
    small run's time, and the tests of the pictures themselves are marked ``print_charts``."""
    if request.node.get_closest_marker("print_charts") is None:
        from fsp_risk.outputs import plots

        monkeypatch.setattr(plots, "RENDERING", plots.Rendering(dpi=30, formats=("png",), tight=False))
