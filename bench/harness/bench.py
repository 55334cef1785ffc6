"""Runs the benchmarks of bench/README.md against a Release build and writes bench/RESULTS.md
and bench/results.json. Called by scripts/bench.sh; see there for the arguments."""

import argparse
import os
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(__file__))

import b1_tcp  # noqa: E402
import b2_udp  # noqa: E402
import b3_latency  # noqa: E402
import b4_scale  # noqa: E402
import b5_cpu  # noqa: E402
import report  # noqa: E402
from common import log  # noqa: E402

ALL = ("B1", "B2", "B3", "B4", "B5")
MODES = {
    # mode: B1 file size, rounds, B2 seconds per step, B3 tunnels per round, B4 UDP/TCP tunnels
    "quick": {"size": 256 << 20, "rounds": 5, "udp_seconds": 1.0, "per_round": 20,
              "udp_tunnels": 2000, "tcp_tunnels": 500, "scale_rounds": 1, "cpu": False},
    "full": {"size": 1 << 30, "rounds": 5, "udp_seconds": 2.0, "per_round": 40,
             "udp_tunnels": 10000, "tcp_tunnels": 2000, "scale_rounds": 3, "cpu": True},
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--build", required=True)
    parser.add_argument("--only", default=",".join(ALL))
    parser.add_argument("--results", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--command", required=True)
    args = parser.parse_args()
    settings = MODES[args.mode]
    only = set(args.only.split(","))
    rows = []
    failures = []
    with tempfile.TemporaryDirectory(prefix="qmasque-bench-") as work:
        os.chmod(work, 0o755)  # nginx's workers run as another user and must read the files
        steps = [
            ("B1", lambda: b1_tcp.measure(args.build, work, settings["size"], settings["rounds"])),
            ("B2", lambda: b2_udp.measure(args.build, work, settings["rounds"],
                                          settings["udp_seconds"])),
            ("B3", lambda: b3_latency.measure(args.build, work, settings["rounds"],
                                              settings["per_round"])),
            ("B4", lambda: b4_scale.measure(args.build, work, settings["scale_rounds"],
                                            settings["udp_tunnels"], settings["tcp_tunnels"])),
            ("B5", lambda: b5_cpu.measure(args.build, work) if settings["cpu"] else []),
        ]
        for name, step in steps:
            if name not in only:
                continue
            try:
                rows.extend(step())
            except Exception as error:  # one benchmark failing must not hide the others
                traceback.print_exc()
                failures.append(f"{name}: {error}")
                rows.append({"benchmark": name, "metric": "run", "variant": "failed",
                             "unit": "", "median": None, "min": None, "max": None, "n": 0,
                             "ratio": None, "target": "runs to completion", "met": False,
                             "notes": str(error)})
    stamp = report.stamp()
    for row in rows:
        row["run"] = f"{args.command} ({stamp})"
    if only != set(ALL):
        rows = report.keep_others(args.json, only, rows)
    report.write(rows, args.mode, args.command, args.results, args.json)
    log(f"wrote {args.results} and {args.json}")
    for failure in failures:
        log(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
