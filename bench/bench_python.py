#!/usr/bin/env python3
"""Per-call cost of the Python binding, beside the same calls in C++ measured in the same run.

For each operation it prints the C++ time (from shmkit_bench, run here with a filter), the
Python time, the difference (what the binding and the interpreter add per call) and the cost
of the cheapest possible Python method call on this machine (the floor any binding pays).

    make bench-python
    PYTHONPATH=build/native/bindings/python /usr/bin/python3 bench/bench_python.py \
        --cxx build/native/bench/shmkit_bench [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import shmkit

PREFIX = f"/shmkit-pybench-{os.getpid()}"


def per_call_ns(fn, calls: int, repeats: int = 7) -> float:
    """Median over `repeats` runs of the mean time of one call of fn()."""
    results = []
    for _ in range(repeats):
        gc.disable()
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        t1 = time.perf_counter_ns()
        gc.enable()
        results.append((t1 - t0) / calls)
    return statistics.median(results)


def cxx_figures(binary: str, names: list[str]) -> dict[str, float]:
    """Runs the C++ benchmarks whose names are given; returns ns per iteration (real time)."""
    if not binary or not os.path.exists(binary):
        return {}
    pattern = "^(" + "|".join(names) + ")$"
    out = subprocess.run([binary, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                          "--benchmark_min_time=0.2"], capture_output=True, text=True, check=True).stdout
    figures = {}
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    for b in json.loads(out)["benchmarks"]:
        figures[b["name"]] = b["real_time"] * scale[b["time_unit"]]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cxx", help="path of shmkit_bench for the C++ figures")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    msg = bytes(64)
    rows = []  # (operation, C++ benchmark name, python ns)

    class Nothing:
        def method(self):
            return None
    nothing = Nothing()
    floor = per_call_ns(nothing.method, 200_000)

    with shmkit.BroadcastWriter.create(PREFIX + "-bc", capacity=64 * 1024) as w, \
            shmkit.BroadcastReader.open(PREFIX + "-bc") as r:
        def bc():
            w.write(msg)
            r.try_read()
        rows.append(("broadcast write + try_read, 64 B", "BM_Call_BroadcastWriteRead64", per_call_ns(bc, 50_000)))

    with shmkit.SpscProducer.create(PREFIX + "-q", capacity=64 * 1024) as p, \
            shmkit.SpscConsumer.open(PREFIX + "-q") as c:
        def q():
            p.try_push(msg)
            c.try_pop()
        rows.append(("spsc try_push + try_pop, 64 B", "BM_Call_SpscPushPop64", per_call_ns(q, 50_000)))

    with shmkit.KV.create(PREFIX + "-kv", ["mode", "count", "status", "gain"]) as kv:
        kv.set("status", b"ready")
        rows.append(("kv get", "BM_Kv/set:0", per_call_ns(lambda: kv.get("status"), 50_000)))
        rows.append(("kv set", "BM_Kv/set:1", per_call_ns(lambda: kv.set("status", b"ready"), 50_000)))

    with shmkit.StreamWriter.create(PREFIX + "-st", dtype="uint8", shape=(256,)) as sw, \
            shmkit.StreamReader.open(PREFIX + "-st") as sr:
        sw.write(np.zeros(256, np.uint8))
        rows.append(("stream write, 256 B", "BM_Stream_Write/256", per_call_ns(lambda: sw.write(msg * 4), 50_000)))
        rows.append(("stream latest() copy, 256 B", "BM_Stream_Latest/256", per_call_ns(sr.latest, 50_000)))

    with shmkit.VideoWriter.create(PREFIX + "-vid", width=1920, height=1080, format="rgb24", slots=3,
                                   prefault=True) as vw, \
            shmkit.VideoReader.open(PREFIX + "-vid") as vr:
        vw.write(np.full((1080, 1920, 3), 3, np.uint8))

        def view():
            v = vr.view_latest()
            v.array
            v.valid
        rows.append(("video view_latest() 1080p as NumPy + valid", "BM_Call_VideoViewLatest1080p",
                     per_call_ns(view, 20_000)))
        rows.append(("video latest() 1080p copy", "BM_Video_Latest1080p", per_call_ns(vr.latest, 200)))

        def publish():
            res = vw.reserve(pts=1)
            a = res.array
            a[0, 0, 0] = 1
            a[-1, -1, -1] = 1
            res.commit()
        rows.append(("video reserve + commit 1080p (zero-copy)", "BM_Video_Publish1080p_ZeroCopy",
                     per_call_ns(publish, 20_000)))

    cxx = cxx_figures(args.cxx, [row[1] for row in rows])
    print(f"Python method-call floor on this machine: {floor:.0f} ns")
    print(f"{'operation':46} {'C++ ns':>10} {'Python ns':>10} {'overhead':>10} {'ratio':>7}")
    results = []
    for op, bench, py_ns in rows:
        c_ns = cxx.get(bench)
        over = py_ns - c_ns if c_ns is not None else None
        ratio = py_ns / c_ns if c_ns else None
        print(f"{op:46} {c_ns if c_ns is not None else float('nan'):10.0f} {py_ns:10.0f} "
              f"{over if over is not None else float('nan'):10.0f} {ratio if ratio else float('nan'):7.2f}")
        results.append({"operation": op, "cxx_benchmark": bench, "cxx_ns": c_ns, "python_ns": py_ns,
                        "overhead_ns": over})
    if not cxx:
        print("(no C++ figures: pass --cxx path/to/shmkit_bench)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python_call_floor_ns": floor, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
