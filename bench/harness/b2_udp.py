"""B2 UDP: 1200-byte datagrams from udp_pace to a UDP echo
  direct                          the baseline;
  --udp-forward -> qmasque h3     CONNECT-UDP over HTTP/3, QUIC DATAGRAM frames;
  --udp-forward -> qmasque h2     CONNECT-UDP over HTTP/2, DATAGRAM capsules.
For each path: the highest paced rate with < 1 % loss (a rising ladder), then interleaved rounds
at that rate (datagrams/s echoed, Mbit/s, RTT p50/p99) and at twice that rate (does goodput
collapse?). Drops are located with the client's /metrics counters. Over h3 also the largest
payload that passes, and whether a larger one is refused with a counted drop."""

import json
import os
import socket
import time

from common import (free_port, interleave, log, metric_deltas, run, scrape_metrics, summary,
                    wait_for_tcp)
from targets import Proxy, start_client, start_udp_echo

PAYLOAD = 1200
LADDER = [5000, 10000, 15000, 20000, 30000, 45000, 60000, 80000, 100000, 130000, 160000, 200000]


def pace(build, port, rate, seconds, size=PAYLOAD):
    result = run([os.path.join(build, "bench", "udp_pace"), "--target", f"127.0.0.1:{port}",
                  "--rate", rate, "--size", size, "--seconds", seconds, "--drain-ms", 500])
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def wait_for_udp_path(port, timeout=20.0, size=64):
    """Sends probes through a forward until one comes back (the tunnel is then open)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if echo_size(port, size, attempts=1):
            return True
    return False


def echo_size(port, size, attempts=3):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        for _ in range(attempts):
            sock.sendto(b"s" * size, ("127.0.0.1", port))
            try:
                data, _ = sock.recvfrom(65536)
                if len(data) == size:
                    return True
            except socket.timeout:
                pass
    return False


def largest_payload(port):
    """Binary search for the largest datagram that echoes through the forward."""
    low, high = 64, 65000
    while low < high:
        middle = (low + high + 1) // 2
        if echo_size(port, middle):
            low = middle
        else:
            high = middle - 1
    return low


def find_sustainable(build, port, seconds):
    best = None
    failures = 0
    for rate in LADDER:
        result = pace(build, port, rate, seconds)
        log(f"  ladder {rate}/s: loss {result['loss_pct']:.2f} %, "
            f"echoed {result['received'] / seconds:.0f}/s")
        if result["loss_pct"] < 1.0 and result["send_rate"] >= 0.95 * rate:
            best = rate
            failures = 0
        else:
            failures += 1
            if failures == 2:
                break
    return best


def measure(build, work, rounds, seconds):
    echo, echo_port = start_udp_echo(build, work)
    proxy = Proxy(build, work)
    clients = {}
    metrics = {}
    forwards = {"direct": echo_port}
    try:
        for transport in ("h3", "h2"):
            local = free_port(socket.SOCK_DGRAM)
            metrics_port = free_port()
            clients[transport] = start_client(
                build, work, proxy, transport,
                ["--udp-forward", f"127.0.0.1:{local}=127.0.0.1:{echo_port}",
                 "--metrics", f"127.0.0.1:{metrics_port}"], name=f"qmasque-b2-{transport}")
            wait_for_tcp(metrics_port)
            if not wait_for_udp_path(local):
                raise RuntimeError(f"no echo through the {transport} forward")
            forwards[transport] = local
            metrics[transport] = metrics_port

        names = {"direct": "direct echo", "h3": "--udp-forward -> qmasque h3 (DATAGRAM frames)",
                 "h2": "--udp-forward -> qmasque h2 (capsules)"}
        sustainable = {}
        for key, port in forwards.items():
            log(f"B2: finding the sustainable rate, {names[key]}")
            sustainable[key] = find_sustainable(build, port, seconds) or LADDER[0]

        before = {key: scrape_metrics(port) for key, port in metrics.items()}
        samples = {key: [] for key in forwards}

        def at(key, factor):
            def once():
                result = pace(build, forwards[key], sustainable[key] * factor, seconds)
                samples[key].append((factor, result))
                return result["received"] / seconds
            return once

        log(f"B2: {rounds} interleaved rounds at the sustainable rate and at twice it")
        at_rate = interleave(rounds, [(key, at(key, 1)) for key in forwards])
        at_double = interleave(rounds, [(key, at(key, 2)) for key in forwards])
        after = {key: scrape_metrics(port) for key, port in metrics.items()}
        largest = largest_payload(forwards["h3"])
        too_large_before = scrape_metrics(metrics["h3"])
        echoed_too_large = echo_size(forwards["h3"], largest + 1, attempts=1)
        too_large_after = scrape_metrics(metrics["h3"])
    finally:
        for client in clients.values():
            client.stop()
        proxy.stop()
        echo.stop()

    rows = []
    direct_rate = summary(at_rate["direct"])["median"]
    for key in forwards:
        stats = summary(at_rate[key])
        steady = [r for f, r in samples[key] if f == 1]
        doubled = summary(at_double[key])
        loss = summary([r["loss_pct"] for r in steady])
        p50 = summary([r["rtt_p50_us"] for r in steady])["median"]
        p99 = summary([r["rtt_p99_us"] for r in steady])["median"]
        baseline = key == "direct"
        drops = {} if baseline else metric_deltas(before[key], after[key])
        notes = (f"ladder max {sustainable[key]}/s; loss median {loss['median']:.2f} %; "
                 f"{stats['median'] * PAYLOAD * 8 / 1e6:.0f} Mbit/s; "
                 f"RTT p50 {p50:.0f} us, p99 {p99:.0f} us")
        if drops:
            notes += "; drops: " + ", ".join(f"{n} +{v:.0f}" for n, v in sorted(drops.items()))
        target = None
        met = None
        if key == "h3":
            target = ">= 45000/s at < 1 % loss"
            met = stats["median"] >= 45000 and loss["median"] < 1.0
        rows.append({"benchmark": "B2 UDP", "metric": "echoed datagrams/s at < 1 % loss",
                     "variant": names[key], "unit": "datagrams/s", **stats,
                     "ratio": stats["median"] / direct_rate, "target": target, "met": met,
                     "notes": notes})
        collapse = doubled["median"] / stats["median"] if stats["median"] else 0.0
        rows.append({"benchmark": "B2 UDP", "metric": "goodput at 2x the sustainable rate",
                     "variant": names[key], "unit": "datagrams/s", **doubled,
                     "ratio": collapse, "ratio_of": "own sustainable goodput",
                     "target": None if baseline else ">= 0.80 of best",
                     "met": None if baseline else collapse >= 0.80})
    moved = metric_deltas(too_large_before, too_large_after)
    rows.append({"benchmark": "B2 UDP", "metric": "largest payload over h3",
                 "variant": names["h3"], "unit": "bytes", "median": largest, "min": largest,
                 "max": largest, "n": 1, "ratio": None,
                 "target": "larger refused and counted",
                 "met": (not echoed_too_large) and bool(moved),
                 "notes": f"{largest + 1} bytes echoed: {echoed_too_large}; counters moved: "
                          + (", ".join(f"{n} +{v:.0f}" for n, v in moved.items()) or "none")})
    return rows
