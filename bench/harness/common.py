"""Process, port and statistics helpers shared by the benchmarks (scripts/bench.sh)."""

import os
import signal
import socket
import statistics
import subprocess
import sys
import time


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port(kind=socket.SOCK_STREAM):
    """A port free for both TCP and UDP right now (the proxy binds both)."""
    while True:
        with socket.socket(socket.AF_INET, kind) as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
            try:
                with socket.socket(socket.AF_INET, other) as second:
                    second.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_for_tcp(port, timeout=20.0, host="127.0.0.1"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout} s")


class Process:
    """A child process, killed (whole process group) when stopped or on exit of a `with` block."""

    def __init__(self, argv, name, log_dir, env=None, stdout=subprocess.PIPE):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.stderr_path = os.path.join(log_dir, f"{name}.stderr")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=stdout, stderr=self._stderr,
                                     env=env, start_new_session=True)

    def read_until(self, predicate, timeout=30.0):
        """Reads stdout lines until predicate(line) is true; returns every line read."""
        lines = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.name} exited ({self.proc.poll()}); see {self.stderr_path}")
            text = line.decode(errors="replace").strip()
            lines.append(text)
            if predicate(text):
                return lines
        raise RuntimeError(f"{self.name}: no expected output after {timeout} s")

    def pid(self):
        return self.proc.pid

    def stop(self, timeout=10.0):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self._stderr.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run(argv, timeout=600, env=None, check=True):
    result = subprocess.run([str(a) for a in argv], capture_output=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({result.returncode}): "
                           f"{result.stderr.decode(errors='replace')[-800:]}")
    return result


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def summary(values):
    """median, min and max of a list of numbers (NaN-free)."""
    clean = [v for v in values if v == v]
    if not clean:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0}
    return {"median": statistics.median(clean), "min": min(clean), "max": max(clean),
            "n": len(clean)}


def interleave(rounds, variants):
    """Runs each variant once per round, in order (A B C A B C ...); returns {name: [values]}."""
    results = {name: [] for name, _ in variants}
    for round_index in range(rounds):
        for name, measure in variants:
            value = measure()
            log(f"  round {round_index + 1}/{rounds} {name}: {value:.4g}")
            results[name].append(value)
    return results


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def scrape_metrics(port):
    """The qmasque /metrics endpoint as {name{labels}: value} (OpenMetrics text)."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            values[name] = float(value)
        except ValueError:
            pass
    return values


def metric_deltas(before, after, words=("drop", "lost", "discard", "error")):
    """Counters that moved between two scrapes and whose name has one of `words`."""
    moved = {}
    for name, value in after.items():
        if any(word in name for word in words) and value != before.get(name, 0.0):
            moved[name] = value - before.get(name, 0.0)
    return moved
