#!/usr/bin/env python3
"""Benchmark JSON to Markdown tables and PNG plots, and the README's performance section.

Reads the Google Benchmark JSON of `make bench` (--bench) and/or of `make bench-peers`
(--peers), and/or the JSON of `make bench-bridge` (--bridge: shmkit-bridge across two hosts beside
ddsperf and the local path, written by bench/bridge/run.sh). --out DIR writes DIR/report.md and the plots beside it; --readme FILE replaces the
text between the markers <!-- perf:begin --> and <!-- perf:end --> in FILE with the generated
section; --docs-plot FILE writes the one small plot that is committed with the README.

    make bench          # runs the benchmarks, then this on build/bench.json
    make bench-readme   # the README section and docs/perf-latency.png from existing JSON
    /usr/bin/python3 bench/report.py --bench build/bench.json [--peers build/bench-peers.json] \
        [--bridge build/bench-bridge.json] --out build/bench-report [--readme README.md --docs-plot docs/perf-latency.png]

Plots need matplotlib (Debian: python3-matplotlib); without it the tables are still written.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

BEGIN_MARKER = "<!-- perf:begin -->"
END_MARKER = "<!-- perf:end -->"

TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# Parts of a Google Benchmark name that say how it ran, not what it measured
# ("BM_X/64/min_time:0.500/real_time" is "BM_X/64"). Argument names such as "reserve:0" stay.
RUN_OPTION = re.compile(r"^(min_time|min_warmup_time|iterations|repeats|threads):|^(real_time|manual_time)$")

# Keys of a benchmark's JSON object that are not user counters.
NOT_COUNTERS = {"name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
                "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
                "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "label", "big_o",
                "rms", "complexity"}


class ReportError(Exception):
    """A problem with the inputs or outputs that ends the run with a message."""


# ---- loading -----------------------------------------------------------------------------------

@dataclass
class Run:
    """One benchmark's result: the median aggregate if there is one, else its single run."""
    name: str
    real_ns: Optional[float]
    counters: dict[str, float]
    error: Optional[str] = None

    def counter(self, key: str) -> Optional[float]:
        return None if self.error is not None else self.counters.get(key)


@dataclass
class Suite:
    context: dict[str, Any]
    runs: dict[str, Run] = field(default_factory=dict)  # by canonical name, in the JSON's order

    def get(self, name: str) -> Optional[Run]:
        return self.runs.get(name)


def canonical_name(name: str) -> str:
    return "/".join(part for part in name.split("/") if not RUN_OPTION.match(part))


def _run_from(entry: dict[str, Any], name: str) -> Run:
    if entry.get("error_occurred"):
        return Run(name, None, {}, str(entry.get("error_message") or "error"))
    scale = TIME_UNIT_NS.get(str(entry.get("time_unit", "ns")), 1.0)
    real = entry.get("real_time")
    counters = {key: float(value) for key, value in entry.items()
                if key not in NOT_COUNTERS and isinstance(value, (int, float)) and not isinstance(value, bool)}
    return Run(name, float(real) * scale if isinstance(real, (int, float)) else None, counters)


def _choose(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The median aggregate if present; else the single run (the median one of several
    repetitions without aggregates; an errored one only if every one errored)."""
    aggregates = {e.get("aggregate_name"): e for e in entries if e.get("run_type") == "aggregate"}
    if "median" in aggregates:
        return aggregates["median"]
    runs = [e for e in entries if e.get("run_type", "iteration") != "aggregate"]
    good = [e for e in runs if not e.get("error_occurred")]
    if good:
        good.sort(key=lambda e: float(e.get("real_time", 0.0)))
        return good[(len(good) - 1) // 2]
    if runs:
        return runs[0]
    return aggregates.get("mean", entries[0])


def read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise ReportError(f"cannot read {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise ReportError(f"{path} is not JSON: {e}") from e


def load_suite(path: str) -> Suite:
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ReportError(f"{path} is not Google Benchmark JSON (no \"benchmarks\" list)")
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in data["benchmarks"]:
        run_name = str(entry.get("run_name") or entry.get("name", ""))
        if "run_name" not in entry and entry.get("run_type") == "aggregate":
            run_name = run_name.removesuffix("_" + str(entry.get("aggregate_name", "")))
        groups.setdefault(canonical_name(run_name), []).append(entry)
    suite = Suite(dict(data.get("context") or {}))
    for name, entries in groups.items():
        suite.runs[name] = _run_from(_choose(entries), name)
    return suite


# ---- formatting --------------------------------------------------------------------------------

def significant(x: float, digits: int = 3) -> str:
    """x with `digits` significant digits, never in exponent notation."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return f"{x:.{decimals}f}"


def fmt_time(ns: float) -> str:
    for limit, scale, unit in ((1e3, 1.0, "ns"), (1e6, 1e3, "µs"), (1e9, 1e6, "ms")):
        if abs(ns) < limit * 0.9995:
            return f"{significant(ns / scale)} {unit}"
    return f"{significant(ns / 1e9)} s"


def fmt_rate(per_s: float) -> str:
    """A rate without its unit: 34.5 M, 530 k, 12."""
    for scale, prefix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(per_s) >= scale * 0.9995:
            return significant(per_s / scale) + prefix
    return significant(per_s)


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}×" if abs(x) < 10 else f"{significant(x)}×"


def fmt_share(x: float) -> str:
    return f"{x * 100:.1f} %"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def heading(level: int, text: str) -> str:
    return "#" * level + " " + text


# ---- the machine -------------------------------------------------------------------------------

def _bytes(n: float) -> str:
    for scale, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n:g} B"


def machine_line(context: dict[str, Any]) -> str:
    """The machine and date from a JSON context (never its host name)."""
    parts = []
    cpu = str(context.get("cpu_model") or "an unnamed CPU")
    cpus = context.get("num_cpus")
    mhz = context.get("mhz_per_cpu")
    what = cpu
    if cpus:
        what += f", {cpus} CPU" + ("s" if cpus != 1 else "")
    if mhz:
        what += f" at {mhz} MHz"
    parts.append(what)
    caches = []
    seen = set()
    for c in context.get("caches") or []:
        kind = {"Data": "d", "Instruction": "i"}.get(str(c.get("type")), "")
        label = f"L{c.get('level', '?')}{kind} {_bytes(float(c.get('size', 0)))}"
        if label not in seen:
            seen.add(label)
            caches.append(label)
    if caches:
        parts.append("caches " + ", ".join(caches))
    if context.get("kernel"):
        parts.append(f"kernel {context['kernel']}")
    if context.get("library_build_type"):
        parts.append(f"Google Benchmark library: {context['library_build_type']} build")
    line = "; ".join(parts)
    if context.get("date"):
        line += f"; run on {context['date']}"
    return line + "."


# ---- the goals of the shmkit suite -------------------------------------------------------------

@dataclass(frozen=True)
class Goal:
    label: str
    benchmark: str
    counter: Optional[str]          # None: the benchmark's real time, in milliseconds
    at_least: bool                  # the goal is value >= target (else value <= target)
    target: float
    show: Callable[[float], str]
    extra: Callable[[Suite], str] = lambda suite: ""


def _spsc_rate(suite: Suite) -> str:
    run = suite.get("BM_Spsc_Throughput64")
    rate = run.counter("msgs_per_s") if run else None
    return f" ({fmt_rate(rate)} msg/s)" if rate is not None else ""


def _with_reservation(suite: Suite) -> str:
    run = suite.get("BM_Segment_Create256MiB/reserve:1")
    if run is None or run.real_ns is None:
        return ""
    return f" (default with reservation: {significant(run.real_ns / 1e6)} ms)"


GOALS = [
    Goal("spsc, 64 B, one producer → one consumer process, vs a plain fixed-slot SPSC ring in the same run",
         "BM_Spsc_Throughput64", "ratio_to_plain_spsc", True, 0.8, fmt_ratio, _spsc_rate),
    Goal("broadcast writer with one busy reader vs the same writer with none",
         "BM_Broadcast_WriterThroughput/1", "ratio_to_no_readers", True, 0.5, fmt_ratio),
    Goal("share of the writer's 64 B messages a single busy reader receives",
         "BM_Broadcast_WriterThroughput/1", "received_share", True, 0.95, lambda x: f"{x:.3f}"),
    Goal("broadcast 4 KiB busy-poll round trip vs the floor",
         "BM_Broadcast_RoundTrip_BusyPoll/4096", "ratio_to_floor", False, 1.2, fmt_ratio),
    Goal("video 1080p RGB24 copy publish vs memcpy of the same bytes",
         "BM_Video_Publish1080p_Copy", "ratio_to_memcpy", False, 1.1, fmt_ratio),
    Goal("video 1080p latest() copy-out vs memcpy",
         "BM_Video_Latest1080p", "ratio_to_memcpy", False, 1.1, fmt_ratio),
    Goal("create a 256 MiB segment without the page reservation",
         "BM_Segment_Create256MiB/reserve:0", None, False, 5.0, lambda x: f"{significant(x)} ms",
         _with_reservation),
]


def goal_text(goal: Goal) -> str:
    unit = " ms" if goal.counter is None else "×" if goal.show is fmt_ratio else ""
    return ("≥ " if goal.at_least else "≤ ") + f"{goal.target:g}{unit}"


def goal_row(goal: Goal, suite: Suite) -> list[str]:
    """[measurement, now, goal, met]: met is "yes", "no", or "–" when not measured."""
    run = suite.get(goal.benchmark)
    if run is None:
        return [goal.label, "not measured", goal_text(goal), "–"]
    if run.error is not None:
        return [goal.label, f"error: {run.error}", goal_text(goal), "–"]
    if goal.counter is None:
        value = run.real_ns / 1e6 if run.real_ns is not None else None
    else:
        value = run.counter(goal.counter)
    if value is None:
        return [goal.label, "not measured", goal_text(goal), "–"]
    met = value >= goal.target if goal.at_least else value <= goal.target
    return [goal.label, goal.show(value) + goal.extra(suite), goal_text(goal), "yes" if met else "no"]


def goals_table(suite: Suite) -> list[str]:
    return table(["measurement", "now", "goal", "met"], [goal_row(g, suite) for g in GOALS])


OTHER_COUNTERS: list[tuple[str, str, Callable[[float], str]]] = [
    ("ratio_to_floor", "× floor", fmt_ratio),
    ("ratio_to_no_readers", "× no readers", fmt_ratio),
    ("ratio_to_plain_spsc", "× plain spsc", fmt_ratio),
    ("ratio_to_memcpy", "× memcpy", fmt_ratio),
    ("msgs_per_s", "msg/s", fmt_rate),
    ("read_locks_per_s", "read locks/s", fmt_rate),
    ("wakeups_per_reader_per_s", "wake-ups/reader/s", significant)]


def others_table(suite: Suite) -> list[str]:
    """Every benchmark not in the goals table: its time and whichever key counters it has."""
    in_goals = {g.benchmark for g in GOALS} | {"BM_Segment_Create256MiB/reserve:1"}
    runs = [r for name, r in suite.runs.items() if name not in in_goals]
    if not runs:
        return []
    present = [c for c in OTHER_COUNTERS if any(c[0] in r.counters for r in runs)]
    rows = []
    for r in runs:
        if r.error is not None:
            rows.append([r.name, f"error: {r.error}"] + [""] * len(present))
            continue
        row = [r.name, fmt_time(r.real_ns) if r.real_ns is not None else ""]
        for key, _, show in present:
            value = r.counters.get(key)
            row.append(show(value) if value is not None else "")
        rows.append(row)
    return table(["benchmark", "time"] + [title for _, title, _ in present], rows)


# ---- the peers suite ---------------------------------------------------------------------------

LATENCY = [("busy_poll_rtt_64B", "Busy-poll round trip, 64 B"),
           ("busy_poll_rtt_4KiB", "Busy-poll round trip, 4 KiB"),
           ("blocking_rtt_64B", "Blocking round trip, 64 B"),
           ("blocking_rtt_4KiB", "Blocking round trip, 4 KiB"),
           ("frame_1080p_zero_copy", "1080p RGB24 frame, zero-copy"),
           ("frame_1080p_copy", "1080p RGB24 frame, copied")]
ROUND_TRIPS = [m for m, _ in LATENCY if "_rtt_" in m]
READERS = [0, 1, 2, 4]
IDLE = "idle_wakeups"
SYSTEMS = ["floor", "shmkit_broadcast", "shmkit_spsc", "shmkit_channel", "iceoryx", "boost_mq", "zeromq"]
SIZES = {"busy_poll_rtt_64B": 64, "busy_poll_rtt_4KiB": 4096, "frame_1080p_copy": 1920 * 1080 * 3,
         "frame_1080p_zero_copy": 1920 * 1080 * 3}


def throughput_name(readers: int) -> str:
    return f"writer_throughput_{readers}_readers"


Peers = dict[str, dict[str, Run]]  # measurement → system → run


def peer_results(suite: Suite) -> Peers:
    """The Peers/<measurement>/<system> runs, systems in SYSTEMS' order (others after)."""
    found: Peers = {}
    for name, run in suite.runs.items():
        parts = name.split("/")
        if len(parts) != 3 or parts[0] != "Peers":
            print(f"note: {name} is not Peers/<measurement>/<system>: left out", file=sys.stderr)
            continue
        found.setdefault(parts[1], {})[parts[2]] = run
    rank = {s: i for i, s in enumerate(SYSTEMS)}
    return {m: dict(sorted(systems.items(), key=lambda kv: rank.get(kv[0], len(SYSTEMS))))
            for m, systems in found.items()}


def reference_system(systems: dict[str, Run], counter: str) -> Optional[str]:
    """shmkit_broadcast if it has `counter`, else the first shmkit_* system that has it."""
    candidates = ["shmkit_broadcast"] + [s for s in systems if s.startswith("shmkit_") and s != "shmkit_broadcast"]
    for s in candidates:
        if s in systems and systems[s].counter(counter) is not None:
            return s
    return None


def ratio_to_floor(systems: dict[str, Run], system: str) -> Optional[float]:
    run = systems[system]
    given = run.counter("ratio_to_floor")
    if given is not None:
        return given
    p50 = run.counter("p50_ns")
    floor = run.counter("floor_p50_ns")
    if floor is None and "floor" in systems:
        floor = systems["floor"].counter("p50_ns")
    return p50 / floor if p50 is not None and floor else None


def ratio_to_shmkit(systems: dict[str, Run], system: str, counter: str) -> Optional[float]:
    run = systems[system]
    given = run.counter("ratio_to_shmkit")
    if given is not None:
        return given
    ref = reference_system(systems, counter)
    value = run.counter(counter)
    base = systems[ref].counter(counter) if ref else None
    return value / base if value is not None and base else None


def skipped(run: Run) -> str:
    return f"skipped: {run.error}"


def latency_table(systems: dict[str, Run]) -> list[str]:
    rows = []
    for system, run in systems.items():
        if run.error is not None:
            rows.append([system, skipped(run), "", "", "", "", ""])
            continue
        row = [system]
        for key in ("p50_ns", "p90_ns", "p99_ns", "mean_ns"):
            value = run.counter(key)
            row.append(fmt_time(value) if value is not None else "")
        for ratio in (ratio_to_floor(systems, system), ratio_to_shmkit(systems, system, "p50_ns")):
            row.append(fmt_ratio(ratio) if ratio is not None else "")
        rows.append(row)
    return table(["system", "p50", "p90", "p99", "mean", "× floor", "× shmkit"], rows)


def throughput_table(peers: Peers) -> list[str]:
    columns = [(n, peers[throughput_name(n)]) for n in READERS if throughput_name(n) in peers]
    if not columns:
        return []
    systems: list[str] = []
    for _, by_system in columns:
        systems += [s for s in by_system if s not in systems]
    rank = {s: i for i, s in enumerate(SYSTEMS)}
    systems.sort(key=lambda s: rank.get(s, len(SYSTEMS)))
    rows = []
    for system in systems:
        runs = [(readers, by_system.get(system)) for readers, by_system in columns]
        errors = {run.error for _, run in runs if run is not None}
        if len(errors) == 1 and None not in errors:
            # Skipped everywhere for one reason: say it once.
            first = next(run for _, run in runs if run is not None)
            rows.append([system, skipped(first)] + [""] * (len(columns) - 1))
            continue
        row = [system]
        for readers, run in runs:
            if run is None:
                row.append("")
            elif run.error is not None:
                row.append(skipped(run))
            else:
                rate = run.counter("msgs_per_s")
                share = run.counter("received_share")
                text = fmt_rate(rate) if rate is not None else ""
                if readers > 0 and share is not None:
                    text += f" ({fmt_share(share)})"
                row.append(text)
        rows.append(row)
    header = ["system"] + [f"{n} reader" + ("" if n == 1 else "s") for n, _ in columns]
    return table(header, rows)


def idle_table(systems: dict[str, Run]) -> list[str]:
    daemon = any(r.counter("daemon_wakeups_per_s") is not None for r in systems.values())
    rows = []
    for system, run in systems.items():
        if run.error is not None:
            rows.append([system, skipped(run)] + ([""] if daemon else []))
            continue
        values = [run.counter("wakeups_per_s")] + ([run.counter("daemon_wakeups_per_s")] if daemon else [])
        rows.append([system] + [significant(v) if v is not None else "" for v in values])
    return table(["system", "wake-ups/s"] + (["daemon wake-ups/s"] if daemon else []), rows)


def peers_section(peers: Peers, level: int) -> list[str]:
    out: list[str] = []
    titles = dict(LATENCY)
    latency = [m for m, _ in LATENCY if m in peers]
    latency += [m for m in peers if m not in titles and any("p50_ns" in r.counters for r in peers[m].values())]
    for m in latency:
        out += ["", heading(level, titles.get(m, m)), ""] + latency_table(peers[m])
    if any(throughput_name(n) in peers for n in READERS):
        out += ["", heading(level, "Writer throughput vs busy readers, 64 B"), "",
                "Messages per second the writer publishes; in parentheses the share of them each busy "
                "reader received.", ""] + throughput_table(peers)
    if IDLE in peers:
        out += ["", heading(level, "Idle wake-ups"), "",
                "How often blocked readers on an idle channel are woken per second (the goal is 0).",
                ""] + idle_table(peers[IDLE])
    known = set(latency) | {throughput_name(n) for n in READERS} | {IDLE}
    for m in peers:
        if m not in known:
            print(f"note: peers measurement {m} has no table: left out", file=sys.stderr)
    return out


# ---- the two-host suite (make bench-bridge) ----------------------------------------------------

BRIDGE_TITLE = "Across two hosts (shmkit-bridge over Cyclone DDS, veth between network namespaces)"


@dataclass
class Bridge:
    """The JSON of `make bench-bridge`: its context and its measurements, in order."""
    context: dict[str, Any]
    measurements: list[dict[str, Any]]


def load_bridge(path: str) -> Bridge:
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("measurements"), list):
        raise ReportError(f"{path} is not the JSON of make bench-bridge (no \"measurements\" list)")
    measurements = [m for m in data["measurements"] if isinstance(m, dict) and m.get("title") and m.get("unit")]
    return Bridge(dict(data.get("context") or {}), measurements)


def bridge_machine_line(context: dict[str, Any]) -> str:
    parts = [str(context.get("cpu_model") or "an unnamed CPU")]
    if context.get("num_cpus"):
        cpus = context["num_cpus"]
        parts[0] += f", {cpus} CPU" + ("s" if cpus != 1 else "")
    if context.get("kernel"):
        parts.append(f"kernel {context['kernel']}")
    if context.get("cyclonedds"):
        parts.append(f"Cyclone DDS {context['cyclonedds']}")
    if context.get("link"):
        parts.append(str(context["link"]))
    if context.get("priority"):
        parts.append(str(context["priority"]))
    line = "; ".join(parts)
    if context.get("date"):
        line += f"; run on {context['date']}"
    return line + "."


def _number(x: Any) -> Optional[float]:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def bridge_value(unit: str, figure: Any) -> str:
    """A figure of the two-host suite with its unit and its key details, or "–"."""
    if not isinstance(figure, dict) or _number(figure.get("value")) is None:
        return "–"
    value = float(figure["value"])
    if unit == "ns":
        text = fmt_time(value)
        p99 = _number(figure.get("p99_ns"))
        if p99 is not None:
            text += f" (p99 {fmt_time(p99)})"
        return text
    if unit == "msg/s":
        text = f"{fmt_rate(value)} msg/s"
        received, lost = _number(figure.get("received")), _number(figure.get("lost"))
        if received is not None and lost is not None and received + lost > 0:
            text += f" ({fmt_share(lost / (received + lost))} lost)"
        elif lost is not None:
            text += f" ({significant(lost)} lost)"
        return text
    if unit == "frames/s":
        text = f"{significant(value)} frames/s"
        mb = _number(figure.get("mb_per_s"))
        if mb is not None:
            text += f", {significant(mb)} MB/s"
        return text
    return f"{significant(value)} {unit}"


def bridge_table(bridge: Bridge) -> list[str]:
    rows = []
    for m in bridge.measurements:
        unit = str(m["unit"])
        to_ddsperf, to_local = _number(m.get("ratio_to_ddsperf")), _number(m.get("ratio_to_local"))
        local = bridge_value(unit, m.get("local"))
        if local != "–" and to_local is not None:
            local += f"; bridge {fmt_ratio(to_local)}"
        rows.append([str(m["title"]), bridge_value(unit, m.get("bridge")), bridge_value(unit, m.get("ddsperf")),
                     fmt_ratio(to_ddsperf) if to_ddsperf is not None else "–", local])
    return table(["measurement", "shmkit-bridge", "ddsperf", "ratio", "local shared memory"], rows)


def bridge_section(bridge: Bridge, level: int) -> list[str]:
    notes = [str(m["note"]) for m in bridge.measurements if m.get("note")]
    out = ["", heading(level, BRIDGE_TITLE), "",
           "Measured in one run: the bridge between two hosts, Cyclone DDS's own `ddsperf` between the same two "
           "hosts, and the same shmkit programs on one host without the bridge. Ratio: shmkit-bridge's figure over "
           "ddsperf's (for times above 1 is slower, for rates below 1 is slower); the local column gives the same "
           "ratio to the local path.", ""] + bridge_table(bridge)
    if notes:
        out += [""] + [f"- {cell(n)}" for n in notes]
    return out


# ---- plots -------------------------------------------------------------------------------------

def load_pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, or None when matplotlib is not importable."""
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        return None
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


COLORS = {"floor": "#7f7f7f", "shmkit_broadcast": "#1f77b4", "shmkit_spsc": "#17becf", "shmkit_channel": "#2ca02c",
          "iceoryx": "#ff7f0e", "boost_mq": "#9467bd", "zeromq": "#d62728"}


def _color(system: str) -> str:
    return COLORS.get(system, "#8c564b")


def _tick_time(ns: float) -> str:
    for limit, scale, unit in ((1e3, 1.0, "ns"), (1e6, 1e3, "µs"), (1e9, 1e6, "ms")):
        if ns < limit * 0.9995:
            return f"{ns / scale:g} {unit}"
    return f"{ns / 1e9:g} s"


def _time_axis(axis: Any, values: list[float]) -> None:
    """A log axis of nanoseconds labelled in ns, µs, ms, with fewer labels per decade the more
    decades `values` span."""
    ticker = importlib.import_module("matplotlib.ticker")
    positive = [v for v in values if v > 0]
    span = math.log10(max(positive) / min(positive)) if positive else 0.0
    subs = (1.0, 2.0, 3.0, 5.0) if span < 1 else (1.0, 2.0, 5.0) if span < 2 else (1.0, 3.0) if span < 3 else (1.0,)
    axis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: _tick_time(v)))
    axis.set_minor_formatter(ticker.NullFormatter())


def _latency_axes(ax: Any, title: str, systems: dict[str, Run]) -> None:
    names = list(systems)
    values: list[float] = []
    for y, system in enumerate(names):
        run = systems[system]
        p50, p90, p99 = (run.counter(k) for k in ("p50_ns", "p90_ns", "p99_ns"))
        if p50 is None:
            ax.text(0.02, y, "skipped" if run.error is not None else "no data", transform=ax.get_yaxis_transform(),
                    va="center", fontsize=8, color="#7f7f7f")
            continue
        values += [v for v in (p50, p90, p99) if v is not None]
        color = _color(system)
        if p99 is not None:
            ax.plot([p50, p99], [y, y], color=color, linewidth=1)
            ax.plot([p99], [y], marker="|", color=color, markersize=8)
        if p90 is not None:
            ax.plot([p50, p90], [y, y], color=color, linewidth=4, alpha=0.6, solid_capstyle="butt")
        ax.plot([p50], [y], marker="o", color=color, markersize=6)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xscale("log")
    _time_axis(ax.xaxis, values)
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(True, axis="x", which="both", alpha=0.3)


def plot_latency(plt: Any, peers: Peers, measurements: list[str], path: str, size: tuple[float, float],
                 dpi: int) -> bool:
    present = [m for m in measurements
               if m in peers and any(r.counter("p50_ns") is not None for r in peers[m].values())]
    if not present:
        return False
    titles = dict(LATENCY)
    cols = 2 if len(present) > 1 else 1
    rows = (len(present) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=size, squeeze=False)
    for i, m in enumerate(present):
        _latency_axes(axes[i // cols][i % cols], titles.get(m, m), peers[m])
    for j in range(len(present), rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("dot: p50, thick bar: to p90, line: to p99", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return True


def plot_throughput(plt: Any, peers: Peers, path: str) -> bool:
    series: dict[str, list[tuple[int, float]]] = {}
    for n in READERS:
        for system, run in peers.get(throughput_name(n), {}).items():
            rate = run.counter("msgs_per_s")
            if rate is not None:
                series.setdefault(system, []).append((n, rate))
    if not series:
        return False
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for system, points in series.items():
        ax.plot([p[0] for p in points], [p[1] / 1e6 for p in points], marker="o", label=system, color=_color(system))
    ax.set_xticks(READERS)
    ax.set_xlabel("busy readers")
    ax.set_ylabel("writer, M msg/s (64 B)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_frame_size(plt: Any, bench: Optional[Suite], peers: Optional[Peers], path: str, size: tuple[float, float],
                    dpi: int) -> bool:
    fig, ax = plt.subplots(figsize=size)
    drawn = False
    if bench is not None:
        rtt: list[tuple[int, float]] = []
        floor: list[tuple[int, float]] = []
        for n in (8, 64, 4096):
            run = bench.get(f"BM_Broadcast_RoundTrip_BusyPoll/{n}")
            if run is None:
                continue
            if run.counter("rtt_ns") is not None:
                rtt.append((n, run.counters["rtt_ns"]))
            if run.counter("floor_ns") is not None:
                floor.append((n, run.counters["floor_ns"]))
        if rtt:
            ax.plot(*zip(*rtt), marker="o", color=_color("shmkit_broadcast"),
                    label="shmkit broadcast (make bench)")
            drawn = True
        if floor:
            ax.plot(*zip(*floor), marker="o", linestyle="--", color=_color("floor"),
                    label="floor: shared atomic (make bench)")
            drawn = True
    if peers is not None:
        systems: list[str] = []
        for m in SIZES:
            systems += [s for s in peers.get(m, {}) if s not in systems]
        for system in systems:
            points = [(SIZES[m], peers[m][system].counter("p50_ns")) for m in
                      ("busy_poll_rtt_64B", "busy_poll_rtt_4KiB", "frame_1080p_copy")
                      if system in peers.get(m, {})]
            xy = [(x, y) for x, y in points if y is not None]
            if xy:
                ax.plot(*zip(*xy), marker="s", linestyle=":", color=_color(system), label=f"{system} (peers, p50)")
                drawn = True
            zero = peers.get("frame_1080p_zero_copy", {}).get(system)
            p50 = zero.counter("p50_ns") if zero else None
            if p50 is not None:
                ax.plot([SIZES["frame_1080p_zero_copy"]], [p50], marker="D", fillstyle="none", linestyle="none",
                        color=_color(system), label=f"{system} 1080p zero-copy")
                drawn = True
    if not drawn:
        plt.close(fig)
        return False
    ax.set_xscale("log")
    ax.set_yscale("log")
    _time_axis(ax.yaxis, [y for line in ax.get_lines() for y in line.get_ydata()])
    ax.set_xticks([8, 64, 4096, SIZES["frame_1080p_copy"]])
    ax.set_xticklabels(["8 B", "64 B", "4 KiB", "1080p RGB24"])
    ax.set_xlim(4, SIZES["frame_1080p_copy"] * 3)
    ax.set_xlabel("payload (up to 4 KiB: round trips; 1080p: frame latency)", fontsize=8)
    ax.set_ylabel("latency")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return True


# ---- the report --------------------------------------------------------------------------------

def section(bench: Optional[Suite], peers_suite: Optional[Suite], peers: Optional[Peers], level: int,
            images: list[tuple[str, str]], bridge: Optional[Bridge] = None) -> str:
    """The generated Markdown: the machine, then the tables, then the images (alt, path)."""
    sources = " and ".join(f"`make {t}`" for t, s in (("bench", bench), ("bench-peers", peers_suite),
                                                       ("bench-bridge", bridge)) if s)
    out = [f"<!-- Generated by bench/report.py from the JSON of {sources}: edit the script, not this text. -->", ""]
    if bench is not None:
        out.append(f"- shmkit suite (`make bench`): {machine_line(bench.context)}")
    if peers_suite is not None:
        out.append(f"- peers suite (`make bench-peers`): {machine_line(peers_suite.context)}")
    if bridge is not None:
        out.append(f"- two-host suite (`make bench-bridge`): {bridge_machine_line(bridge.context)}")
    if bench is not None:
        out += ["", heading(level, "Goals"), ""] + goals_table(bench)
        others = others_table(bench)
        if others:
            out += ["", heading(level, "Every other benchmark"), "",
                    "Real time per iteration and the key counters (ratios are to floors measured in the same "
                    "run; the goals table's benchmarks are not repeated).", ""] + others
    if peers is not None:
        out += peers_section(peers, level)
    if bridge is not None:
        out += bridge_section(bridge, level)
    for alt, path in images:
        out += ["", f"![{alt}]({path})"]
    return "\n".join(out) + "\n"


def replace_section(text: str, body: str, where: str) -> str:
    begin, end = text.find(BEGIN_MARKER), text.find(END_MARKER)
    if begin < 0 or end < 0 or end < begin:
        raise ReportError(f"{where} has no {BEGIN_MARKER} ... {END_MARKER} markers (in that order): "
                          "add them where the generated section goes")
    if text.count(BEGIN_MARKER) != 1 or text.count(END_MARKER) != 1:
        raise ReportError(f"{where} has more than one {BEGIN_MARKER} or {END_MARKER} marker")
    return text[:begin + len(BEGIN_MARKER)] + "\n" + body.rstrip("\n") + "\n" + text[end:]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bench", help="Google Benchmark JSON of `make bench` (build/bench.json)")
    parser.add_argument("--peers", help="Google Benchmark JSON of `make bench-peers` (build/bench-peers.json)")
    parser.add_argument("--bridge", help="JSON of `make bench-bridge` (build/bench-bridge.json)")
    parser.add_argument("--out", help="write report.md and the PNG plots in this directory")
    parser.add_argument("--readme", help="replace the text between the perf markers in this file")
    parser.add_argument("--docs-plot", help="write the committed latency plot (PNG) here")
    args = parser.parse_args(argv)
    if not args.bench and not args.peers and not args.bridge:
        parser.error("give --bench, --peers and/or --bridge")
    if not (args.out or args.readme or args.docs_plot):
        parser.error("nothing to write: give --out, --readme and/or --docs-plot")
    try:
        return report(args.bench, args.peers, args.out, args.readme, args.docs_plot, args.bridge)
    except ReportError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1


def report(bench_path: Optional[str], peers_path: Optional[str], out: Optional[str], readme: Optional[str],
           docs_plot: Optional[str], bridge_path: Optional[str] = None) -> int:
    bench = load_suite(bench_path) if bench_path else None
    bridge = load_bridge(bridge_path) if bridge_path else None
    peers_suite = load_suite(peers_path) if peers_path else None
    peers = peer_results(peers_suite) if peers_suite else None
    readme_text = None
    if readme:
        try:
            with open(readme, encoding="utf-8") as f:
                readme_text = f.read()
        except OSError as e:
            raise ReportError(f"cannot read {readme}: {e.strerror}") from e
        replace_section(readme_text, "", readme)  # refuse before writing anything
    plt = load_pyplot()
    if plt is None:
        if docs_plot:
            raise ReportError("--docs-plot needs matplotlib (Debian: python3-matplotlib), which is not importable")
        print("note: matplotlib is not importable (Debian: python3-matplotlib): no plots", file=sys.stderr)
    written: list[str] = []

    docs_alt = None  # the committed plot: the 64 B round trips of the peers, else latency vs payload size
    if docs_plot:
        os.makedirs(os.path.dirname(docs_plot) or ".", exist_ok=True)
        if peers is not None and plot_latency(plt, peers, ["busy_poll_rtt_64B", "blocking_rtt_64B"], docs_plot,
                                              (8, 2.6), 80):
            docs_alt = "64 B round-trip latency per system"
        elif plot_frame_size(plt, bench, peers, docs_plot, (6, 3), 80):
            docs_alt = "Latency vs payload size"
        if docs_alt:
            written.append(docs_plot)
        else:
            print(f"note: no round trips in the inputs: {docs_plot} not written", file=sys.stderr)

    if out:
        os.makedirs(out, exist_ok=True)
        images: list[tuple[str, str]] = []
        if plt is not None:
            plots: list[tuple[str, str, Callable[[str], bool]]] = [
                ("latency.png", "Round-trip latency per system",
                 lambda p: peers is not None and plot_latency(plt, peers, ROUND_TRIPS, p, (10, 6), 100)),
                ("throughput.png", "Writer throughput vs busy readers",
                 lambda p: peers is not None and plot_throughput(plt, peers, p)),
                ("frame-size.png", "Latency vs payload size",
                 lambda p: plot_frame_size(plt, bench, peers, p, (7, 4.5), 100)),
            ]
            for name, alt, draw in plots:
                path = os.path.join(out, name)
                if draw(path):
                    images.append((alt, name))
                    written.append(path)
                else:
                    print(f"note: no data for {name}: not plotted", file=sys.stderr)
        md = os.path.join(out, "report.md")
        with open(md, "w", encoding="utf-8") as f:
            f.write("# shmkit benchmark report\n\n" + section(bench, peers_suite, peers, 2, images, bridge))
        written.append(md)

    if readme and readme_text is not None:
        images = []
        if docs_alt and docs_plot:
            rel = os.path.relpath(os.path.abspath(docs_plot), os.path.dirname(os.path.abspath(readme)))
            images.append((docs_alt, rel.replace(os.sep, "/")))
        body = section(bench, peers_suite, peers, 3, images, bridge)
        with open(readme, "w", encoding="utf-8") as f:
            f.write(replace_section(readme_text, body, readme))
        written.append(readme)

    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
