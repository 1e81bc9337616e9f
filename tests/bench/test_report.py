"""bench/report.py on the fixture pair beside this file (bench.json: `make bench`'s JSON, with
repetitions, an errored benchmark and run options in the names; peers.json: `make bench-peers`'
JSON, with a skipped system and ratio counters left out). Checks the goals table and its marks,
the ratios the script computes itself, the skipped systems, the plots and the README markers.
Nothing here is timed: the inputs are fixed.

    /usr/bin/python3 -m pytest -q tests/bench
"""

from __future__ import annotations

import importlib
import json
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPORT = HERE.parent.parent / "bench" / "report.py"
BENCH = HERE / "bench.json"
PEERS = HERE / "peers.json"



def matplotlib_importable() -> bool:
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return False
    return True


needs_matplotlib = pytest.mark.skipif(
    not matplotlib_importable(),
    reason="matplotlib is not importable (Debian: python3-matplotlib): the plots are not checked")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args: object, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, str(REPORT), *map(str, args)], capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def tables(markdown: str) -> dict[str, list[list[str]]]:
    """The Markdown tables by the heading above them: rows of cells (the header row first)."""
    found: dict[str, list[list[str]]] = {}
    title = ""
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip()
        elif line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            found.setdefault(title, []).append(cells)
    return found


def by_first_cell(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row for row in rows[1:]}


def report_md(tmp_path: Path, *inputs: object) -> str:
    out = tmp_path / "out"
    run(*inputs, "--out", out)
    return (out / "report.md").read_text(encoding="utf-8")


def fixture(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def entries(data: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [b for b in data["benchmarks"] if b["name"].startswith(prefix)]


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[list[str]]]:
    return tables(report_md(tmp_path_factory.mktemp("full"), "--bench", BENCH, "--peers", PEERS))


# ---- the goals table ---------------------------------------------------------------------------

def test_goals_rows_and_marks(full: dict[str, list[list[str]]]) -> None:
    rows = full["Goals"]
    assert rows[0] == ["measurement", "now", "goal", "met"]
    got = [(now, goal, met) for _, now, goal, met in rows[1:]]
    assert got == [
        # The median of three repetitions (0.79, 0.84, 0.86), with msgs_per_s beside it.
        ("0.84× (102 M msg/s)", "≥ 0.8×", "yes"),
        ("0.76×", "≥ 0.5×", "yes"),
        ("0.983", "≥ 0.95", "yes"),
        ("1.71×", "≤ 1.2×", "no"),
        ("1.05×", "≤ 1.1×", "yes"),
        ("1.32×", "≤ 1.1×", "no"),
        # 912 µs in the JSON, shown in milliseconds, with the default (reserving) figure beside it.
        ("0.912 ms (default with reservation: 38.4 ms)", "≤ 5 ms", "yes"),
    ]
    assert "spsc" in rows[1][0] and "256 MiB" in rows[7][0]


@pytest.mark.parametrize("ratio, met", [(0.5, "yes"), (0.49, "no"), (0.51, "yes")])
def test_goal_at_least_boundary(tmp_path: Path, ratio: float, met: str) -> None:
    data = fixture(BENCH)
    entries(data, "BM_Broadcast_WriterThroughput/1/")[0]["ratio_to_no_readers"] = ratio
    rows = tables(report_md(tmp_path, "--bench", write(tmp_path, "bench.json", data)))["Goals"]
    assert rows[2][1:] == [f"{ratio:.2f}×", "≥ 0.5×", met]


@pytest.mark.parametrize("ms, met", [(5.0, "yes"), (5.2, "no"), (4.8, "yes")])
def test_goal_at_most_boundary(tmp_path: Path, ms: float, met: str) -> None:
    data = fixture(BENCH)
    run0 = entries(data, "BM_Segment_Create256MiB/reserve:0")[0]
    run0["real_time"], run0["time_unit"] = ms * 1e6, "ns"
    rows = tables(report_md(tmp_path, "--bench", write(tmp_path, "bench.json", data)))["Goals"]
    assert rows[7][2:] == ["≤ 5 ms", met]
    assert rows[7][1].startswith(f"{ms:.2f} ms")


def test_goals_not_measured_and_errors(tmp_path: Path) -> None:
    data = fixture(BENCH)
    # The counters and benchmarks that are still being added to the C++ suite: absent.
    del entries(data, "BM_Broadcast_WriterThroughput/1/")[0]["received_share"]
    data["benchmarks"] = [b for b in data["benchmarks"] if not b["name"].startswith("BM_Segment_Create256MiB")]
    for b in entries(data, "BM_Spsc_Throughput64"):
        b.pop("ratio_to_plain_spsc", None)
    latest = entries(data, "BM_Video_Latest1080p")[0]
    latest.update({"error_occurred": True, "error_message": "no | frame"})
    rows = tables(report_md(tmp_path, "--bench", write(tmp_path, "bench.json", data)))["Goals"]
    assert [row[1] for row in rows[1:]] == ["not measured", "0.76×", "not measured", "1.71×", "1.05×",
                                           "error: no | frame", "not measured"]
    assert [row[3] for row in rows[1:]] == ["–", "yes", "–", "no", "yes", "–", "–"]


def test_other_benchmarks(full: dict[str, list[list[str]]]) -> None:
    rows = full["Every other benchmark"]
    header, named = rows[0], by_first_cell(rows)
    assert header[:2] == ["benchmark", "time"]
    assert "wake-ups/reader/s" in header and "× floor" in header and "msg/s" in header
    # Run options are dropped from the names; the goals' benchmarks are not repeated.
    assert "BM_Broadcast_RoundTrip_BusyPoll/64" in named and "BM_Broadcast_RoundTrip_BusyPoll/4096" not in named
    assert "BM_Spsc_Throughput64" not in named and "BM_Segment_Create256MiB/reserve:1" not in named
    assert named["BM_Broadcast_RoundTrip_BusyPoll/64"][1:3] == ["243 ns", "1.27×"]
    assert named["BM_Select_WakeRoundTrip/helper_threads:0"][1] == "error: no futex_waitv on this kernel"
    assert named["BM_Floor_FutexPingPong"][1] == "25.8 µs"
    assert named["BM_Command_Throughput64/4"][header.index("msg/s")] == "550 k"
    assert named["BM_Broadcast_IdleWakeups"][header.index("wake-ups/reader/s")] == "0"


# ---- the peers tables --------------------------------------------------------------------------

def test_latency_ratios_given_and_computed(full: dict[str, list[list[str]]]) -> None:
    rows = full["Busy-poll round trip, 64 B"]
    assert rows[0] == ["system", "p50", "p90", "p99", "mean", "× floor", "× shmkit"]
    named = by_first_cell(rows)
    assert named["shmkit_broadcast"][1:] == ["245 ns", "300 ns", "520 ns", "262 ns", "1.29×", "1.00×"]
    # No ratio_to_shmkit counter for these two: p50 / shmkit_broadcast's p50.
    assert named["boost_mq"][6] == "5.92×"   # 1450 / 245
    assert named["zeromq"][6] == "101×"      # 24800 / 245
    # No ratio counters at all in this measurement: both ratios from the p50s.
    named = by_first_cell(full["Blocking round trip, 4 KiB"])
    assert named["boost_mq"][5:] == ["1.25×", "1.17×"]   # 33000 / 26400, 33000 / 28100
    assert named["floor"][5:] == ["1.00×", "0.94×"]


def test_reference_without_shmkit_broadcast(tmp_path: Path) -> None:
    data = fixture(PEERS)
    data["benchmarks"] = [b for b in data["benchmarks"]
                          if not b["name"].startswith("Peers/blocking_rtt_4KiB/shmkit_broadcast/")]
    named = by_first_cell(tables(report_md(tmp_path, "--peers", write(tmp_path, "peers.json", data)))
                          ["Blocking round trip, 4 KiB"])
    assert named["shmkit_spsc"][6] == "1.00×"
    assert named["boost_mq"][6] == "1.19×"   # 33000 / 27800: shmkit_spsc is the reference now


def test_skipped_systems(full: dict[str, list[list[str]]]) -> None:
    skipped = "skipped: iceoryx not found at build time"
    for title in ("Busy-poll round trip, 64 B", "Blocking round trip, 4 KiB", "1080p RGB24 frame, copied",
                  "Idle wake-ups"):
        assert by_first_cell(full[title])["iceoryx"][1] == skipped, title
    throughput = full["Writer throughput vs busy readers, 64 B"]
    assert throughput[0] == ["system", "0 readers", "1 reader", "2 readers", "4 readers"]
    named = by_first_cell(throughput)
    assert named["iceoryx"][1:] == [skipped, "", "", ""]   # one reason, said once
    one_receiver = "skipped: a message queue has one receiver per message"
    assert named["boost_mq"][1:] == ["2.40 M", "2.20 M (100.0 %)", one_receiver, one_receiver]
    assert named["shmkit_broadcast"][1:] == ["41.0 M", "30.5 M (98.5 %)", "29.8 M (97.8 %)", "29.1 M (96.2 %)"]
    assert by_first_cell(full["Idle wake-ups"])["shmkit_broadcast"][1] == "0"


def test_machine_line(tmp_path: Path) -> None:
    md = report_md(tmp_path, "--bench", BENCH, "--peers", PEERS)
    assert "fixture-host" not in md   # the host name is never printed
    line = next(l for l in md.splitlines() if l.startswith("- shmkit suite"))
    for part in ("test fixture", "2 CPUs at 2096 MHz", "L1d 32 KiB", "L3 32 MiB", "kernel 6.1.0-fixture",
                 "2026-12-06"):
        assert part in line
    assert any(l.startswith("- peers suite") for l in md.splitlines())


def test_inputs_are_required() -> None:
    assert run("--out", "unused", check=False).returncode == 2
    proc = run("--bench", HERE / "no-such.json", "--out", "unused", check=False)
    assert proc.returncode == 1 and "no-such.json" in proc.stderr


# ---- plots -------------------------------------------------------------------------------------

def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@needs_matplotlib
def test_plots(tmp_path: Path) -> None:
    out, docs = tmp_path / "out", tmp_path / "docs" / "perf-latency.png"
    proc = run("--bench", BENCH, "--peers", PEERS, "--out", out, "--docs-plot", docs)
    for name in ("latency.png", "throughput.png", "frame-size.png"):
        width, height = png_size(out / name)
        assert width > 300 and height > 200
        assert f"({name})" in (out / "report.md").read_text(encoding="utf-8")
        assert str(out / name) in proc.stdout
    png_size(docs)
    assert docs.stat().st_size < 60_000
    assert f"wrote {docs}" in proc.stdout


@needs_matplotlib
def test_plots_without_their_data(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run("--bench", BENCH, "--out", out)
    assert not (out / "latency.png").exists() and not (out / "throughput.png").exists()
    assert "no data for latency.png" in proc.stderr and "no data for throughput.png" in proc.stderr
    png_size(out / "frame-size.png")   # the shmkit round trips alone
    empty = write(tmp_path, "empty.json", {"context": {}, "benchmarks": []})
    proc = run("--bench", empty, "--out", tmp_path / "empty", "--docs-plot", tmp_path / "docs.png")
    assert not (tmp_path / "docs.png").exists() and "not written" in proc.stderr


# ---- the README section ------------------------------------------------------------------------

README = ("# Title\n\n## Benchmarks\n\nProse before.\n\n"
          "<!-- perf:begin -->\nold figures\n<!-- perf:end -->\n\nProse after.\n")


def test_readme_section_replaced(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    proc = run("--bench", BENCH, "--peers", PEERS, "--readme", readme)
    text = readme.read_text(encoding="utf-8")
    assert f"wrote {readme}" in proc.stdout
    assert text.startswith("# Title\n\n## Benchmarks\n\nProse before.\n\n<!-- perf:begin -->\n")
    assert text.endswith("\n<!-- perf:end -->\n\nProse after.\n")
    assert "old figures" not in text
    section = tables(text)
    assert section["Goals"][1][3] == "yes" and "iceoryx" in by_first_cell(section["Idle wake-ups"])
    assert "### Goals" in text   # one level below the README's "## Benchmarks"
    run("--bench", BENCH, "--peers", PEERS, "--readme", readme)
    assert readme.read_text(encoding="utf-8") == text   # regenerating changes nothing


@needs_matplotlib
def test_readme_links_docs_plot(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    run("--bench", BENCH, "--peers", PEERS, "--readme", readme, "--docs-plot", tmp_path / "docs" / "perf-latency.png")
    assert "](docs/perf-latency.png)" in readme.read_text(encoding="utf-8")


@pytest.mark.parametrize("text", ["# No markers\n", "<!-- perf:end -->\n<!-- perf:begin -->\n",
                                  "<!-- perf:begin -->\n"])
def test_readme_without_markers_refused(tmp_path: Path, text: str) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    proc = run("--bench", BENCH, "--readme", readme, "--out", out, check=False)
    assert proc.returncode == 1
    assert "<!-- perf:begin -->" in proc.stderr and "markers" in proc.stderr
    assert readme.read_text(encoding="utf-8") == text   # untouched
    assert not out.exists()                               # and nothing else written
