"""Builds shmkit's native module and the shmkit command-line tool with CMake (pyproject.toml has
the metadata). The tool is installed inside the package, in shmkit/_bin, for the `shmkit`
console script and `python -m shmkit` (shmkit/__main__.py).

pip runs this with the interpreter it installs for, which CMake receives as Python_EXECUTABLE,
so the module always matches the interpreter (a venv's, Debian's /usr/bin/python3, ...).
Set SHMKIT_CMAKE_ARGS to pass more options (e.g. a toolchain file).

Progress: pip shows nothing a build prints unless it fails or runs with -v, so a plain
`pip install .` would sit silent for the minutes the build takes. When there is a terminal,
CMake's configure and build lines go straight to it (/dev/tty), one line per step; without one
(CI, a pipe) they go to stdout, which pip shows with -v. A failed build's output is always
printed to stderr, which pip shows in its error report. SHMKIT_PIP_PROGRESS=0 keeps the
terminal quiet.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, TextIO

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


def open_terminal() -> Optional[TextIO]:
    """The terminal to write progress lines to, or None (no terminal, or SHMKIT_PIP_PROGRESS=0)."""
    if os.environ.get("SHMKIT_PIP_PROGRESS", "1") == "0":
        return None
    try:
        return open("/dev/tty", "w", encoding="utf-8", errors="replace")  # closed by the caller
    except OSError:
        return None


def run(command: List[str], terminal: Optional[TextIO], output: List[str]) -> None:
    """Runs a CMake step, showing each line of its output as it comes (on the terminal if any,
    else on stdout) and keeping it in `output`; raises CalledProcessError on failure."""
    line_start = "\n" if terminal is not None and not output else ""  # off pip's "Building wheel ..." line
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               errors="replace", bufsize=1)
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if terminal is not None:
            terminal.write(f"{line_start}shmkit: {line}")
            terminal.flush()
            line_start = ""
        else:
            sys.stdout.write(line)
            sys.stdout.flush()
    status = process.wait()
    if status != 0:
        raise subprocess.CalledProcessError(status, command)


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
            "-DSHMKIT_BUILD_BRIDGE=OFF",  # the package carries the tool, not the bridge
            "-DSHMKIT_INSTALL=OFF",
            f"-DPython_EXECUTABLE={sys.executable}",
        ] + shlex.split(os.environ.get("SHMKIT_CMAKE_ARGS", ""))
        build = ["cmake", "--build", str(build_dir), "--target", "shmkit_python", "shmkit_python_tool",
                 "-j", str(os.cpu_count() or 2)]
        terminal = open_terminal()
        output: List[str] = []
        try:
            run(configure, terminal, output)
            run(build, terminal, output)
        except subprocess.CalledProcessError:
            if terminal is not None:  # the lines went to the terminal only: give pip's report them
                sys.stderr.write("".join(output))
            raise
        finally:
            if terminal is not None:
                terminal.close()
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
