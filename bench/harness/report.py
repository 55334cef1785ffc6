"""Writes the results: a markdown table into bench/RESULTS.md (between the results markers, so
the hand-written analysis around it stays) and every row as JSON next to it."""

import datetime
import json
import os
import platform
import subprocess

BEGIN = "<!-- results:begin (written by scripts/bench.sh; edit outside these markers) -->"
END = "<!-- results:end -->"


def fmt(value, unit=""):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, (int, float)):
        if value != value:
            return "n/a"
        if float(value).is_integer() and abs(value) < 1e15:
            return f"{int(value)}"
        magnitude = abs(value)
        text = f"{value:.0f}" if magnitude >= 1000 else f"{value:.3g}" if magnitude < 10 else f"{value:.1f}"
        return text
    return str(value)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(l.split(":", 1)[1].strip() for l in info if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}, Linux {platform.release()}"


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def keep_others(json_path, only, rows):
    """For a partial run (--only): the previous results of the benchmarks not run this time,
    then this run's rows, in benchmark order."""
    try:
        with open(json_path) as previous:
            data = json.load(previous)
        old = data["rows"]
        for row in old:
            row.setdefault("run", f"{data['command']} ({data['time']})")
    except (OSError, ValueError, KeyError):
        old = []
    kept = [r for r in old if r["benchmark"].split()[0] not in only]
    return sorted(kept + rows, key=lambda r: r["benchmark"].split()[0])


def table(rows):
    lines = ["| Benchmark | Metric | Variant | Median | Range (min–max) | Unit | Ratio | Target | Met? |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        ratio = fmt(row.get("ratio"))
        if ratio and row.get("ratio_of"):
            ratio += f" (of {row['ratio_of']})"
        elif ratio:
            ratio += " (of baseline)" if row["variant"] not in ("direct", "direct echo") else ""
        lines.append("| " + " | ".join([
            row["benchmark"], row["metric"], row["variant"], fmt(row["median"]),
            f"{fmt(row['min'])}–{fmt(row['max'])} (n={row['n']})", row["unit"], ratio,
            row.get("target") or "", fmt(row.get("met")) if row.get("met") is not None else "",
        ]) + " |")
    notes = [f"- **{r['benchmark']} / {r['variant']} / {r['metric']}**: {r['notes']}"
             for r in rows if r.get("notes")]
    return "\n".join(lines + ([""] + notes if notes else []))


def write(rows, mode, command, results_path, json_path):
    runs = sorted({r["run"] for r in rows if r.get("run")})
    section = "\n".join([
        BEGIN,
        f"Commit {commit()}, {machine()}. Produced by: " + "; ".join(f"`{r}`" for r in runs) + ".",
        "",
        table(rows),
        END,
    ])
    existing = ""
    if os.path.exists(results_path):
        with open(results_path) as current:
            existing = current.read()
    if BEGIN in existing and END in existing:
        head, rest = existing.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = "# Benchmark results\n\n" + section + "\n"
    with open(results_path, "w") as out:
        out.write(text)
    with open(json_path, "w") as out:
        json.dump({"mode": mode, "command": command, "time": stamp(), "commit": commit(),
                   "machine": machine(), "rows": rows}, out, indent=1)
