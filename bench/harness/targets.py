"""Starts what the benchmarks measure against: nginx with a large file, the UDP echo, the
qmasque-proxy and the qmasque client (headless). Every helper returns a common.Process."""

import os
import socket
import subprocess
import time

from common import Process, free_port, log, wait_for_tcp

NGINX_CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx.error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        default_type application/octet-stream;
    }}
}}
"""


def make_file(path, size):
    """A file of `size` bytes that is not all zeros (so nothing can cheat with sparse pages)."""
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        written = 0
        while written < size:
            chunk = block[: min(len(block), size - written)]
            out.write(chunk)
            written += len(chunk)


def start_nginx(work, sizes):
    """nginx on loopback serving /<size>.bin for every size; returns (process, port)."""
    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    for size in sizes:
        make_file(os.path.join(www, f"{size}.bin"), size)
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as out:
        out.write(NGINX_CONF.format(dir=work, port=port))
    process = Process(["nginx", "-c", conf, "-p", work], "nginx", work, stdout=subprocess.DEVNULL)
    wait_for_tcp(port)
    return process, port


def start_udp_echo(build, work, name="udp_echo"):
    port = free_port(socket.SOCK_DGRAM)
    process = Process([os.path.join(build, "bench", "udp_echo"), "--listen", f"127.0.0.1:{port}"],
                      name, work, stdout=subprocess.DEVNULL)
    time.sleep(0.2)  # binds at once; nothing to read back
    return process, port


class Proxy:
    def __init__(self, build, work, extra=(), name="qmasque-proxy"):
        self.process = Process([os.path.join(build, "app", "qmasque-proxy"), "--self-signed",
                                "--listen", "127.0.0.1:0", "--allow", "127.0.0.0/8",
                                "--log-level", "error", *extra], name, work)
        lines = self.process.read_until(lambda line: line == "ready")
        self.pin = next(l.split("=", 1)[1] for l in lines if l.startswith("pin-sha256="))
        listen = next(l for l in lines if l.startswith("listen="))
        self.port = int(listen.split()[0].rsplit(":", 1)[1])

    def stop(self):
        self.process.stop()


def start_client(build, work, proxy, transports, extra=(), name="qmasque", prefix=()):
    """qmasque --headless against `proxy`; the caller waits for its listeners."""
    argv = [*prefix, os.path.join(build, "app", "qmasque"), "--headless",
            "--proxy", f"https://127.0.0.1:{proxy.port}", "--pin-sha256", proxy.pin,
            "--transports", transports, "--log-level", "error", *extra]
    log(f"  starting {name}: {' '.join(argv[len(prefix):])}")
    return Process(argv, name, work, stdout=subprocess.DEVNULL)
