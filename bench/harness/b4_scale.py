"""B4 scale: qmasque-bench-scale opens 10 000 concurrent UDP tunnels (and 2 000 TCP tunnels)
through one TunnelClient and pool against qmasque-proxy (100 tunnels per connection), over h3
and h2: RSS per idle tunnel, upstream connections opened against ceil(N / 100), time to open
them all, and the time to build one pool snapshot of all the streams (and its JSON)."""

import json
import os

from common import log, run, summary
from targets import start_nginx, start_udp_echo

PER_CONNECTION = 100


def scale_run(build, transport, protocol, tunnels, target_port):
    result = run([os.path.join(build, "bench", "qmasque-bench-scale"), "--transport", transport,
                  "--protocol", protocol, "--tunnels", tunnels, "--target",
                  f"127.0.0.1:{target_port}", "--per-connection", PER_CONNECTION], timeout=900,
                 check=False)
    lines = result.stdout.decode().strip().splitlines()
    if not lines:
        raise RuntimeError("qmasque-bench-scale printed nothing: "
                           + result.stderr.decode(errors="replace")[-800:])
    return json.loads(lines[-1])


def measure(build, work, rounds, udp_tunnels, tcp_tunnels):
    echo, echo_port = start_udp_echo(build, work)
    nginx, nginx_port = start_nginx(work, [4096])
    runs = {}
    try:
        for round_index in range(rounds):
            for transport in ("h3", "h2"):
                for protocol, tunnels, port in (("udp", udp_tunnels, echo_port),
                                                ("tcp", tcp_tunnels, nginx_port)):
                    result = scale_run(build, transport, protocol, tunnels, port)
                    log(f"  round {round_index + 1}/{rounds} {transport} {protocol}: "
                        f"{result['opened']} open in {result['open_seconds']:.2f} s, "
                        f"{result['rss_per_tunnel_bytes']:.0f} B/tunnel, "
                        f"{result['connections']} connections, "
                        f"snapshot {result['snapshot_build_ms']:.2f} ms")
                    runs.setdefault((transport, protocol, tunnels), []).append(result)
    finally:
        nginx.stop()
        echo.stop()

    rows = []
    for (transport, protocol, tunnels), results in runs.items():
        variant = f"{tunnels} {protocol.upper()} tunnels over {transport}"
        expected = results[0]["expected_connections"]
        opened_all = all(r["opened"] == tunnels for r in results)
        echoes = [r["echoed"] for r in results]

        def row(metric, key, unit, target=None, met=None, scale=1.0, notes=""):
            stats = summary([r[key] * scale for r in results])
            return {"benchmark": "B4 scale", "metric": metric, "variant": variant, "unit": unit,
                    **stats, "ratio": None, "target": target, "met": met, "notes": notes}

        per_tunnel = summary([r["rss_per_tunnel_bytes"] / 1024 for r in results])["median"]
        rows.append(row("RSS per open tunnel", "rss_per_tunnel_bytes", "KiB",
                        "<= 16 KiB" if protocol == "udp" else None,
                        per_tunnel <= 16 if protocol == "udp" else None, scale=1 / 1024,
                        notes=f"all opened: {opened_all}"
                        + (f"; echoes {min(echoes)}..{max(echoes)} of {tunnels}"
                           if protocol == "udp" else "")))
        connections = [r["connections"] for r in results]
        rows.append(row("upstream connections", "connections", "connections",
                        f"= {expected}", all(c == expected for c in connections)))
        rows.append(row("time to open all", "open_seconds", "s"))
        build_ms = summary([r["snapshot_build_ms"] for r in results])["median"]
        rows.append(row("snapshot build", "snapshot_build_ms", "ms",
                        "<= 10 ms" if tunnels >= 10000 else None,
                        build_ms <= 10 if tunnels >= 10000 else None,
                        notes=f"{results[0]['snapshot_streams']} streams; JSON "
                              f"{summary([r['snapshot_json_ms'] for r in results])['median']:.1f} ms"))
    return rows
