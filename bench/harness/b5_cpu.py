"""B5 CPU cost: instructions the qmasque client executes per MiB carried (B1's path: curl ->
SOCKS5 -> qmasque -> h2 or h3 -> qmasque-proxy -> nginx), counted by valgrind's callgrind. Two
runs per transport download a small and a large file; the difference of their totals divided by
the difference in MiB cancels start-up, handshake and shutdown, so the number is the marginal
cost of one MiB and repeatable across commits. Only the client runs under valgrind."""

import os

from common import Process, free_port, log, run, wait_for_tcp
from targets import Proxy, start_client, start_nginx

SMALL = 8 << 20
LARGE = 40 << 20


def total_instructions(path):
    with open(path) as profile:
        for line in profile:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def counted_download(build, work, proxy, transport, nginx_port, size):
    out = os.path.join(work, f"callgrind.{transport}.{size}.out")
    port = free_port()
    client = start_client(build, work, proxy, transport, ["--socks", f"127.0.0.1:{port}"],
                          name=f"qmasque-b5-{transport}-{size}",
                          prefix=["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"])
    try:
        wait_for_tcp(port, timeout=120)
        run(["curl", "-s", "-f", "-o", "/dev/null", "--socks5-hostname", f"127.0.0.1:{port}",
             f"http://127.0.0.1:{nginx_port}/{size}.bin"], timeout=600)
    finally:
        code = client.stop(timeout=120)
    if code != 0:
        raise RuntimeError(f"qmasque under callgrind exited with {code}")
    return total_instructions(out)


def measure(build, work):
    nginx, nginx_port = start_nginx(work, [SMALL, LARGE])
    proxy = Proxy(build, work)
    rows = []
    try:
        for transport in ("h2", "h3"):
            log(f"B5: callgrind, {transport}")
            small = counted_download(build, work, proxy, transport, nginx_port, SMALL)
            large = counted_download(build, work, proxy, transport, nginx_port, LARGE)
            per_mib = (large - small) / ((LARGE - SMALL) >> 20)
            rows.append({"benchmark": "B5 CPU cost", "metric": "client instructions per MiB",
                         "variant": f"SOCKS5 -> qmasque {transport}", "unit": "Minstr/MiB",
                         "median": per_mib / 1e6, "min": per_mib / 1e6, "max": per_mib / 1e6,
                         "n": 1, "ratio": None, "target": None, "met": None,
                         "notes": f"totals {small / 1e6:.0f} M ({SMALL >> 20} MiB) and "
                                  f"{large / 1e6:.0f} M ({LARGE >> 20} MiB)"})
    finally:
        proxy.stop()
        nginx.stop()
    return rows
