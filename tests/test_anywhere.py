"""fsp-risk anywhere: the shipped configs travel with the package, so a user's first commands work from any
folder; `fsp-risk configs` lists them and `fsp-risk init` copies one as a starting point."""
import json
import os
import subprocess
import sys

import pytest
from conftest import CONFIGS, ROOT

import fsp_risk
from fsp_risk.app import cli
from fsp_risk.config.shipped import shipped_configs


def test_a_built_package_carries_the_configs_and_runs_from_any_folder(tmp_path):
    """Build the package as a wheel does (setup.py's build hook), then run it from an empty folder with no
    config named: the default config comes from the package's own data."""
    lib = tmp_path / "lib"
    subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(lib)], cwd=ROOT, check=True,
                   capture_output=True)
    shipped = lib / "fsp_risk" / "shipped"
    for source in [*CONFIGS.glob("*.yaml"), *CONFIGS.glob("*/*.csv")]:
        assert (shipped / source.relative_to(CONFIGS)).read_bytes() == source.read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(lib)}
    code = "import fsp_risk, sys; from fsp_risk.app.cli import main; print(fsp_risk.__file__); sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code, "run", "--iterations", "500", "--quiet", "--out", "o"],
                          cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(str(lib))  # the built copy ran, not the checkout
    (folder,) = (elsewhere / "o").iterdir()
    meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert meta["config_path"] == str(shipped / "oxfordshire-2024-commissioning.yaml")


def test_configs_lists_every_shipped_config(capsys):
    assert cli.main(["configs"]) == 0
    out = capsys.readouterr().out
    assert [p.stem for p in shipped_configs()] == ["oxfordshire-2019-business-case", "oxfordshire-2024-commissioning",
                                                   "west-sussex-2022"]
    for path in shipped_configs():
        assert path.stem in out and fsp_risk.load_config(path).title in out


def test_a_shipped_config_runs_by_name_from_another_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "west-sussex-2022", "--iterations", "300", "--quiet", "--out", "o"]) == 0
    (folder,) = (tmp_path / "o").iterdir()
    assert folder.name.startswith("west-sussex-2022-")


def test_an_unknown_name_lists_the_shipped_configs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "westsussex", "--iterations", "10"]) == 2
    err = capsys.readouterr().err
    assert "westsussex: config file not found; expected a YAML file or the name of a shipped config" in err
    assert "west-sussex-2022" in err


def test_init_copies_a_config_with_its_sources_and_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init", "my-council", "--from", "west-sussex-2022"]) == 0
    copy = tmp_path / "my-council.yaml"
    assert copy.read_text(encoding="utf-8") == (CONFIGS / "west-sussex-2022.yaml").read_text(encoding="utf-8")
    assert fsp_risk.load_config(copy).inputs == fsp_risk.load_config(CONFIGS / "west-sussex-2022.yaml").inputs
    assert "fsp-risk run my-council.yaml" in capsys.readouterr().out
    copy.write_text(copy.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")
    assert cli.main(["init", "my-council.yaml"]) == 2
    assert "my-council.yaml: already exists; expected a new name (nothing is overwritten)" in capsys.readouterr().err
    assert copy.read_text(encoding="utf-8").endswith("# mine\n")
    for bad in ("../escape", "sub/dir", ".hidden"):
        assert cli.main(["init", bad]) == 2
        assert "expected a file name for the new config, with no folder" in capsys.readouterr().err
    # The JSON Schema its first line names comes too, so an editor checks the copy as it is typed.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fsp-risk-config.schema.json", "my-council.yaml"]
    assert (tmp_path / "fsp-risk-config.schema.json").read_text() == (CONFIGS / "fsp-risk-config.schema.json").read_text()


@pytest.mark.parametrize("command", [["whatif", "--help"], ["run", "--help"]])
def test_help_says_a_config_may_be_a_shipped_name(command, capsys):
    with pytest.raises(SystemExit):
        cli.main(command)
    assert "the name of a shipped config" in " ".join(capsys.readouterr().out.split())
