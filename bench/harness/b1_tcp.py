"""B1 TCP bulk: curl downloads one large file from nginx on loopback
  direct                     the physical baseline;
  curl -> qmasque-proxy h1   curl's own HTTPS-proxy CONNECT through qmasque-proxy;
  SOCKS5 -> qmasque h2/h3    curl through qmasque's SOCKS5 port, classic CONNECT over h2 or h3
                             to qmasque-proxy, then nginx.
Interleaved rounds; throughput in MB/s (10^6 bytes per second) as curl measures it."""

import os

from common import free_port, interleave, log, run, summary, wait_for_tcp
from targets import Proxy, start_client, start_nginx


def curl_speed(url, extra=()):
    result = run(["curl", "-s", "-f", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}",
                  *extra, url])
    speed, size = result.stdout.decode().split()
    return float(speed) / 1e6, int(size)


def measure(build, work, size, rounds):
    nginx, nginx_port = start_nginx(work, [size])
    proxy = Proxy(build, work)
    clients = []
    try:
        url = f"http://127.0.0.1:{nginx_port}/{size}.bin"
        socks = {}
        for transport in ("h2", "h3"):
            port = free_port()
            clients.append(start_client(build, work, proxy, transport,
                                        ["--socks", f"127.0.0.1:{port}", "--tcp-mode", "connect"],
                                        name=f"qmasque-b1-{transport}"))
            wait_for_tcp(port)
            socks[transport] = port
        proxy_args = ["-p", "-x", f"https://127.0.0.1:{proxy.port}", "--proxy-insecure",
                      "--proxy-pinnedpubkey", f"sha256//{proxy.pin}"]

        def variant(extra):
            def once():
                speed, received = curl_speed(url, extra)
                if received != size:
                    raise RuntimeError(f"short download: {received} of {size} bytes")
                return speed
            return once

        variants = [
            ("direct", variant([])),
            ("curl -> qmasque-proxy (h1 CONNECT)", variant(proxy_args)),
            ("SOCKS5 -> qmasque h2 -> qmasque-proxy",
             variant(["--socks5-hostname", f"127.0.0.1:{socks['h2']}"])),
            ("SOCKS5 -> qmasque h3 -> qmasque-proxy",
             variant(["--socks5-hostname", f"127.0.0.1:{socks['h3']}"])),
        ]
        for _, once in variants:  # warm-up: page cache, pooled connections
            once()
        log(f"B1: {rounds} rounds of {size >> 20} MiB downloads")
        results = interleave(rounds, variants)
    finally:
        for client in clients:
            client.stop()
        proxy.stop()
        nginx.stop()

    direct = summary(results["direct"])["median"]
    rows = []
    for name, values in results.items():
        stats = summary(values)
        baseline = name == "direct"
        rows.append({"benchmark": "B1 TCP bulk", "metric": f"download {size >> 20} MiB",
                     "variant": name, "unit": "MB/s", **stats,
                     "ratio": stats["median"] / direct,
                     "target": None if baseline else "ratio >= 0.30",
                     "met": None if baseline else stats["median"] / direct >= 0.30})
    return rows
