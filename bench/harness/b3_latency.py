"""B3 tunnel-open latency: a SOCKS5 CONNECT through qmasque to nginx, timed from the TCP connect
to the SOCKS port until the first byte of the HTTP response, 200 tunnels per variant:
  warm   the pool already holds a connection to the proxy (a new stream on it);
  cold   no connection: every tunnel pays a new TLS (h2) or QUIC (h3) handshake (the client's
         pool closes idle connections after 20 ms and the next tunnel starts later than that);
  direct the same request straight to nginx (a TCP connect, no proxy): the physical baseline.
Each round measures every variant in turn (interleaved); times in milliseconds."""

import socket
import struct
import time

from common import free_port, interleave, log, percentile, summary, wait_for_tcp
from targets import Proxy, start_client, start_nginx

REQUEST = b"GET /4096.bin HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
COLD_IDLE_MS = 20
COLD_GAP_S = 0.12


def recv_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise RuntimeError("connection closed during the SOCKS5 exchange")
        data += chunk
    return data


def first_byte_ms(target_port, socks_port=None):
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", socks_port or target_port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if socks_port:
            sock.sendall(b"\x05\x01\x00")
            if recv_exact(sock, 2) != b"\x05\x00":
                raise RuntimeError("SOCKS5 method refused")
            sock.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1")
                         + struct.pack("!H", target_port))
            reply = recv_exact(sock, 4)
            if reply[1] != 0:
                raise RuntimeError(f"SOCKS5 CONNECT failed with reply {reply[1]}")
            recv_exact(sock, {1: 6, 4: 18}[reply[3]])
        sock.sendall(REQUEST)
        first = sock.recv(1)
        elapsed = (time.perf_counter() - start) * 1000.0
        head = first + sock.recv(64)
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"unexpected response: {head[:40]!r}")
    return elapsed


def measure(build, work, rounds, per_round):
    nginx, nginx_port = start_nginx(work, [4096])
    proxy = Proxy(build, work)
    clients = []
    socks = {}
    try:
        for transport in ("h2", "h3"):
            for mode in ("warm", "cold"):
                port = free_port()
                extra = ["--socks", f"127.0.0.1:{port}"]
                if mode == "cold":
                    extra += ["--pool-idle-ms", str(COLD_IDLE_MS)]
                clients.append(start_client(build, work, proxy, transport, extra,
                                            name=f"qmasque-b3-{transport}-{mode}"))
                wait_for_tcp(port)
                socks[(transport, mode)] = port
                first_byte_ms(nginx_port, port)  # the warm one keeps this connection

        samples = {}

        def variant(name, socks_port, cold):
            samples[name] = []

            def once():
                values = []
                for _ in range(per_round):
                    if cold:
                        time.sleep(COLD_GAP_S)
                    values.append(first_byte_ms(nginx_port, socks_port))
                samples[name].extend(values)
                return summary(values)["median"]
            return once

        variants = [("direct", variant("direct", None, False))]
        for transport in ("h2", "h3"):
            for mode in ("warm", "cold"):
                variants.append((f"SOCKS5 -> qmasque {transport} {mode}",
                                 variant(f"SOCKS5 -> qmasque {transport} {mode}",
                                         socks[(transport, mode)], mode == "cold")))
        log(f"B3: {rounds} rounds of {per_round} tunnels per variant")
        interleave(rounds, variants)
    finally:
        for client in clients:
            client.stop()
        proxy.stop()
        nginx.stop()

    rows = []
    direct = summary(samples["direct"])["median"]
    for name, values in samples.items():
        stats = summary(values)
        p99 = percentile(values, 0.99)
        row = {"benchmark": "B3 tunnel-open latency", "metric": "CONNECT to first byte",
               "variant": name, "unit": "ms", **stats, "ratio": stats["median"] / direct,
               "target": None, "met": None, "notes": f"p99 {p99:.2f} ms over {len(values)}"}
        if name.endswith("warm"):
            cold = summary(samples[name[:-4] + "cold"])["median"]
            speedup = cold / stats["median"]
            row["target"] = "p50 <= 1 ms and >= 8x faster than cold"
            row["met"] = stats["median"] <= 1.0 and speedup >= 8.0
            row["notes"] += f"; cold/warm {speedup:.1f}x"
        rows.append(row)
    return rows
