"""One version, set in CMakeLists.txt's project(): the module's __version__ and, for an
installed copy, the package metadata pip recorded agree with it."""
import re
from importlib import metadata
from pathlib import Path

import pytest

import shmkit

ROOT = Path(__file__).resolve().parents[3]


def project_version() -> str:
    match = re.search(r"project\(shmkit VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())
    assert match is not None
    return match.group(1)


def test_the_module_has_the_project_version():
    assert shmkit.__version__ == project_version()


def test_an_installed_copy_has_it_in_its_metadata():
    if "/site-packages/" not in shmkit.__file__:
        pytest.skip("not an installed copy (the build tree's module has no package metadata)")
    assert metadata.version("shmkit") == shmkit.__version__
