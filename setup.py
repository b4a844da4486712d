"""Build hook: the repository's ``configs/`` folder goes into the wheel as package data (``fsp_risk/shipped``),
so that an installed fsp-risk can run its shipped configs from any folder (:mod:`fsp_risk.config.shipped`).
Everything else about the package is in ``pyproject.toml``."""
import os

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithConfigs(build_py):
    def run(self):
        super().run()
        if not self.editable_mode:  # an editable install reads configs/ where it is
            self.copy_tree("configs", os.path.join(self.build_lib, "fsp_risk", "shipped"))


setup(cmdclass={"build_py": BuildWithConfigs})
