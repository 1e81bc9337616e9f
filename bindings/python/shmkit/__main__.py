"""``python -m shmkit`` and the ``shmkit`` console script: the shmkit command-line tool (list,
inspect, remove and reap segments; the demo), which is installed inside this package, run with
the same arguments and exit status (``python -m shmkit --help``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

# The tool's executable: built with the package's native module and installed beside it.
TOOL = Path(__file__).with_name("_bin") / ("shmkit.exe" if os.name == "nt" else "shmkit")


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the tool with ``argv`` (default: this process's arguments). On POSIX the tool
    replaces this process (exec), so this returns only if the tool is missing; elsewhere it
    returns the tool's exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not TOOL.is_file():
        sys.stderr.write(f"shmkit: the command-line tool is missing from this installation ({TOOL})\n")
        return 1
    if os.name == "posix":
        # The caller sees the tool's own exit status and signals, and talks to it directly
        # (no Python process in between).
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(TOOL, [str(TOOL), *args])
    return subprocess.call([str(TOOL), *args])


if __name__ == "__main__":
    sys.exit(main())
