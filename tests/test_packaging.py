"""The package's metadata as the build backend reads it from pyproject.toml (what `make chat` installs)."""

from __future__ import annotations

import warnings

from setuptools.config.pyprojecttoml import apply_configuration
from setuptools.dist import Distribution

from assistant.settings import PROJECT_DIR


def test_pyproject_is_read_without_deprecation_warnings(monkeypatch):
    monkeypatch.chdir(PROJECT_DIR)  # the readme and the package folders are found from there
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # setuptools warned about the `project.license` table
        dist = apply_configuration(Distribution(), PROJECT_DIR / "pyproject.toml")
    assert dist.metadata.license_expression == "MIT"
