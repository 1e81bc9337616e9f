#!/usr/bin/env python3
"""The JSON of `make bench-bridge` from run.sh's logs: assemble.py LOG_DIR OUT.json.

Each measurement has the bridge's figure, ddsperf's on the same link and the local shared-memory
path's (each {"value": ..., ...details} or null), and the ratios bridge / ddsperf and
bridge / local (value over value, whatever the unit: above 1 is slower for times, faster for
rates).

ddsperf prints statistics per second: its round-trip median and p99 here are the medians of the
per-second figures, its rate the median of the per-second rates (from its running totals), each
without the first second (discovery and start-up) and, for rates, the last one (the publisher
stopping within it).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from typing import Any, Optional

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
PING_LINE = re.compile(r"^\[\d+\]\s+([\d.]+)\s+\S+\s+size\s+(\d+)\s+mean\s+([\d.]+)(ns|us|ms|s)\s+min\s+([\d.]+)(ns|us|ms|s)"
                       r"\s+50%\s+([\d.]+)(ns|us|ms|s)\s+90%\s+([\d.]+)(ns|us|ms|s)\s+99%\s+([\d.]+)(ns|us|ms|s)"
                       r"\s+max\s+([\d.]+)(ns|us|ms|s)\s+cnt\s+(\d+)")
SUB_LINE = re.compile(r"^\[\d+\]\s+([\d.]+)\s+size\s+(\d+)\s+total\s+(\d+)\s+lost\s+(\d+)\s+delta\s+(\d+)\s+lost\s+(\d+)")


def read_json(path: str) -> Optional[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
        return json.loads(text) if text else None
    except (OSError, json.JSONDecodeError):
        return None


def read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def ddsperf_ping(path: str) -> Optional[dict[str, Any]]:
    """Round-trip median and p99 (ns) from `ddsperf ping` output."""
    intervals = []
    for line in read_lines(path):
        m = PING_LINE.match(line)
        if m:
            g = m.groups()
            intervals.append({"t": float(g[0]), "size": int(g[1]),
                              "median_ns": float(g[6]) * UNIT_NS[g[7]], "p99_ns": float(g[10]) * UNIT_NS[g[11]],
                              "max_ns": float(g[12]) * UNIT_NS[g[13]], "count": int(g[14])})
    used = intervals[1:] if len(intervals) > 1 else intervals
    used = [i for i in used if i["count"] > 0]
    if not used:
        return None
    return {"median_ns": statistics.median(i["median_ns"] for i in used),
            "p99_ns": statistics.median(i["p99_ns"] for i in used),
            "round_trips": sum(i["count"] for i in used), "intervals": len(used)}


def ddsperf_rate(path: str) -> Optional[dict[str, Any]]:
    """Samples/s received by `ddsperf sub` (and samples it counted lost)."""
    points = []
    for line in read_lines(path):
        m = SUB_LINE.match(line)
        if m:
            points.append((float(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4))))
    if len(points) < 2:
        return None
    rates = []
    for (t0, _, n0, _), (t1, _, n1, _) in zip(points, points[1:]):
        if n1 > n0 and t1 > t0:
            rates.append((n1 - n0) / (t1 - t0))
    steady = rates[:-1] if len(rates) > 2 else rates  # the last: the publisher stopped within it
    if not steady:
        return None
    size = points[-1][1]
    rate = statistics.median(steady)
    return {"per_s": rate, "mb_per_s": rate * size / 1e6, "received": points[-1][2], "lost": points[-1][3],
            "intervals": len(steady), "size": size}


def half(x: Optional[float]) -> Optional[float]:
    return None if x is None else x / 2


def figure(value: Optional[float], **details: Any) -> Optional[dict[str, Any]]:
    if value is None:
        return None
    out: dict[str, Any] = {"value": value}
    out.update({k: v for k, v in details.items() if v is not None})
    return out


def get(d: Optional[dict[str, Any]], key: str) -> Optional[float]:
    if d is None or d.get(key) is None:
        return None
    return float(d[key])


def measurement(name: str, title: str, unit: str, lower_is_better: bool, bridge: Optional[dict[str, Any]],
                ddsperf: Optional[dict[str, Any]], local: Optional[dict[str, Any]], note: str = "") -> dict[str, Any]:
    def ratio(peer: Optional[dict[str, Any]]) -> Optional[float]:
        if bridge is None or peer is None or not peer["value"]:
            return None
        return float(bridge["value"]) / float(peer["value"])
    return {"name": name, "title": title, "unit": unit, "lower_is_better": lower_is_better, "bridge": bridge,
            "ddsperf": ddsperf, "local": local, "ratio_to_ddsperf": ratio(ddsperf), "ratio_to_local": ratio(local),
            "note": note}


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cyclone = ""
    try:
        cyclone = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "cyclonedds-dev"], capture_output=True,
                                 text=True, check=False).stdout.strip()
    except OSError:
        pass
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "cpu_model": cpu,
            "num_cpus": os.cpu_count(), "kernel": platform.release(), "cyclonedds": cyclone,
            "link": "veth pair between two network namespaces (each with its own /dev/shm) on this machine",
            "priority": "every measured process under nice -n -20"}


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: assemble.py LOG_DIR OUT.json", file=sys.stderr)
        return 2
    logs, out = sys.argv[1], sys.argv[2]

    def j(name: str) -> Optional[dict[str, Any]]:
        return read_json(os.path.join(logs, name))
    env = os.environ

    rtt_b, rtt_l = j("rtt-bridge.json"), j("rtt-local.json")
    ping64 = ddsperf_ping(os.path.join(logs, "ddsperf-ping64.log"))
    tput_b, tput_l = j("tput-bridge.json"), j("tput-local.json")
    flood_b, flood_l = j("flood-bridge.json"), j("flood-local.json")
    sub64 = ddsperf_rate(os.path.join(logs, "ddsperf-sub64.log"))
    vsrc, vsink, lvsrc, lvsink = j("vsrc.json"), j("vsink.json"), j("lvsrc.json"), j("lvsink.json")
    subframe = ddsperf_rate(os.path.join(logs, "ddsperf-subframe.log"))
    pingframe = ddsperf_ping(os.path.join(logs, "ddsperf-pingframe.log"))

    def exported(key: str) -> Optional[int]:
        v = env.get(key, "").strip()
        return int(v) if v.isdigit() else None

    hz = float(env.get("FRAME_HZ", "0") or 0)
    writer = f"writer at {hz:g} frames/s" if hz > 0 else "writer unpaced"
    ms = [
        measurement("rtt_64B_median", "64 B round trip, median", "ns", True,
                    figure(get(rtt_b, "median_ns"), round_trips=get(rtt_b, "round_trips")),
                    figure(get(ping64, "median_ns"), round_trips=get(ping64, "round_trips")),
                    figure(get(rtt_l, "median_ns"), round_trips=get(rtt_l, "round_trips"))),
        measurement("rtt_64B_p99", "64 B round trip, p99", "ns", True,
                    figure(get(rtt_b, "p99_ns")), figure(get(ping64, "p99_ns")), figure(get(rtt_l, "p99_ns"))),
        measurement("throughput_64B", "64 B messages received per second (writer flooding)", "msg/s", False,
                    figure(get(tput_b, "per_s"), received=get(tput_b, "received"), lost=get(tput_b, "lost"),
                           written=get(flood_b, "written"), written_per_s=get(flood_b, "per_s"),
                           exporter_sent=exported("FLOOD_EXPORTED"), exporter_lost=exported("FLOOD_EXPORT_LOST")),
                    figure(get(sub64, "per_s"), lost=get(sub64, "lost")),
                    figure(get(tput_l, "per_s"), received=get(tput_l, "received"), lost=get(tput_l, "lost"),
                           written=get(flood_l, "written"), written_per_s=get(flood_l, "per_s")),
                    "lost: messages the reader was told it missed (the writer lapping the exporter or the reader)"),
        measurement("frames_1080p", f"1080p RGB24 frames received per second ({writer})", "frames/s", False,
                    figure(get(vsink, "per_s"), mb_per_s=get(vsink, "mb_per_s"), frames=get(vsink, "frames"),
                           written_per_s=get(vsrc, "per_s")),
                    figure(get(subframe, "per_s"), mb_per_s=get(subframe, "mb_per_s"), lost=get(subframe, "lost")),
                    figure(get(lvsink, "per_s"), mb_per_s=get(lvsink, "mb_per_s"), frames=get(lvsink, "frames"),
                           written_per_s=get(lvsrc, "per_s")),
                    "frames: the link delivers the latest (the video default); ddsperf: pub/sub of 6220800 B "
                    "samples, reliable, its publisher as fast as it goes"),
        measurement("frame_1080p_rtt_median", "1080p frame round trip (frame there, its index back), median", "ns",
                    True, figure(get(vsrc, "rtt_median_ns"), round_trips=get(vsrc, "round_trips"),
                                 p99_ns=get(vsrc, "rtt_p99_ns")),
                    figure(get(pingframe, "median_ns"), p99_ns=get(pingframe, "p99_ns"),
                           round_trips=get(pingframe, "round_trips")),
                    figure(get(lvsrc, "rtt_median_ns"), round_trips=get(lvsrc, "round_trips"),
                           p99_ns=get(lvsrc, "rtt_p99_ns")),
                    "frame round trip: one frame in flight, its index sent back on a 16 B broadcast; ddsperf: the "
                    "frame both ways (pong echoes the sample)"),
        measurement("frame_1080p_one_way_median", "1080p frame one way (write on a to read on b), median", "ns", True,
                    figure(get(vsink, "one_way_median_ns"), p99_ns=get(vsink, "one_way_p99_ns"),
                           loaded_median_ns=get(vsink, "loaded_one_way_median_ns")),
                    figure(half(get(pingframe, "median_ns")), p99_ns=half(get(pingframe, "p99_ns"))),
                    figure(get(lvsink, "one_way_median_ns"), p99_ns=get(lvsink, "one_way_p99_ns"),
                           loaded_median_ns=get(lvsink, "loaded_one_way_median_ns")),
                    "one way: from the send time carried in the frame (the two hosts share this machine's "
                    "clock); ddsperf: half its frame round trip"),
    ]
    doc = {"context": machine(),
           "parameters": {"round_trips": int(env.get("PINGS", "0") or 0), "flood_s": float(env.get("FLOOD_S", "0") or 0),
                          "frame_s": float(env.get("FRAME_S", "0") or 0),
                          "frame_round_trips": int(env.get("FRAME_PINGS", "0") or 0), "frame_hz": hz,
                          "frame_bytes": int(env.get("FRAME_BYTES", "0") or 0)},
           "measurements": ms}
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    for m in ms:
        def show(x: Optional[dict[str, Any]]) -> str:
            return "-" if x is None else f"{x['value']:.4g}"
        rd = f"{m['ratio_to_ddsperf']:.2f}" if m["ratio_to_ddsperf"] is not None else "-"
        rl = f"{m['ratio_to_local']:.2f}" if m["ratio_to_local"] is not None else "-"
        print(f"  {m['title']} [{m['unit']}]: bridge {show(m['bridge'])}, ddsperf {show(m['ddsperf'])} "
              f"(x{rd}), local {show(m['local'])} (x{rl})")
    print(f"wrote {out}")
    missing = [m["name"] for m in ms if m["bridge"] is None]
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
