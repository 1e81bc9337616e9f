"""Builds shmkit's native module and the shmkit command-line tool with CMake (pyproject.toml has
the metadata). The tool is installed inside the package, in shmkit/_bin, for the `shmkit`
console script and `python -m shmkit` (shmkit/__main__.py).

pip runs this with the interpreter it installs for, which CMake receives as Python_EXECUTABLE,
so the module always matches the interpreter (a venv's, Debian's /usr/bin/python3, ...).
Set SHMKIT_CMAKE_ARGS to pass more options (e.g. a toolchain file).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def project_version() -> str:
    """The version set once, in CMakeLists.txt's project() (the C++ macros, the CMake package,
    pkg-config and `shmkit --version` take it from there too)."""
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(shmkit VERSION ([0-9]+\.[0-9]+\.[0-9]+)", text)
    if match is None:
        raise RuntimeError("no project(shmkit VERSION x.y.z) in CMakeLists.txt")
    return match.group(1)


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        build_dir = Path(self.build_temp).resolve() / "cmake"
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DSHMKIT_BUILD_PYTHON=ON",
            "-DSHMKIT_BUILD_TESTS=OFF",
            "-DSHMKIT_BUILD_BENCH=OFF",
            "-DSHMKIT_BUILD_TOOLS=ON",
            "-DSHMKIT_INSTALL=OFF",
            f"-DPython_EXECUTABLE={sys.executable}",
        ] + shlex.split(os.environ.get("SHMKIT_CMAKE_ARGS", ""))
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "shmkit_python", "shmkit_python_tool",
                               "-j", str(os.cpu_count() or 2)])
        package = build_dir / "bindings" / "python" / "shmkit"
        built = next(package.glob("_shmkit*.so"))
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target)
        # The tool, inside the package (copy2 keeps it executable).
        (target.parent / "_bin").mkdir(exist_ok=True)
        for tool in (package / "_bin").iterdir():
            shutil.copy2(tool, target.parent / "_bin" / tool.name)


setup(version=project_version(), ext_modules=[CMakeExtension("shmkit._shmkit")], cmdclass={"build_ext": CMakeBuild})
