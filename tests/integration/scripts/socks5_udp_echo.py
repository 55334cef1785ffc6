#!/usr/bin/env python3
"""SOCKS5 UDP ASSOCIATE client (RFC 1928, 7) for the qmasque tests.

Opens the TCP control connection, asks for UDP ASSOCIATE, then sends COUNT datagrams of SIZE
bytes to TARGET through the relay, at most WINDOW unanswered at a time, and counts the echoes.
Each payload starts with its 8-byte sequence number; an echo counts when its header names the
target exactly as it was sent and its payload is the one sent. Prints one JSON line:
{"sent": N, "received": N, "lost": N, "bad": N, "seconds": S}. Exit status 0 when the
association worked at all (the caller judges the loss), 1 on a protocol failure.
"""
import argparse
import json
import select
import socket
import struct
import sys
import time


def read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise RuntimeError("control connection closed")
        data += chunk
    return data


def read_address(sock):
    atyp = read_exact(sock, 1)[0]
    if atyp == 1:
        host = socket.inet_ntop(socket.AF_INET, read_exact(sock, 4))
    elif atyp == 4:
        host = socket.inet_ntop(socket.AF_INET6, read_exact(sock, 16))
    elif atyp == 3:
        host = read_exact(sock, read_exact(sock, 1)[0]).decode()
    else:
        raise RuntimeError("bad address type %d" % atyp)
    port = struct.unpack("!H", read_exact(sock, 2))[0]
    return host, port


def encode_address(host, port):
    try:
        return b"\x01" + socket.inet_pton(socket.AF_INET, host) + struct.pack("!H", port)
    except OSError:
        pass
    try:
        return b"\x04" + socket.inet_pton(socket.AF_INET6, host) + struct.pack("!H", port)
    except OSError:
        name = host.encode()
        return b"\x03" + bytes([len(name)]) + name + struct.pack("!H", port)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socks", required=True, help="HOST:PORT of the SOCKS5 server")
    parser.add_argument("--target", required=True, help="HOST:PORT of the UDP echo")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for stragglers")
    parser.add_argument("--fragment", action="store_true", help="send with FRAG=1 (must be dropped)")
    args = parser.parse_args()

    socks_host, socks_port = args.socks.rsplit(":", 1)
    target_host, target_port = args.target.rsplit(":", 1)
    target_port = int(target_port)

    control = socket.create_connection((socks_host, int(socks_port)), timeout=10)
    control.sendall(b"\x05\x01\x00")
    if read_exact(control, 2) != b"\x05\x00":
        raise RuntimeError("method not accepted")
    # DST.ADDR/DST.PORT: where we will send from (our UDP socket, bound first).
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    control.sendall(b"\x05\x03\x00" + encode_address("127.0.0.1", udp.getsockname()[1]))
    reply = read_exact(control, 3)
    if reply[1] != 0:
        raise RuntimeError("UDP ASSOCIATE refused with reply %d" % reply[1])
    relay = read_address(control)

    header = b"\x00\x00" + (b"\x01" if args.fragment else b"\x00") + \
        encode_address(target_host, target_port)
    filler = bytes((i * 7) & 0xFF for i in range(max(0, args.size - 8)))
    received = set()
    bad = 0
    sent = 0
    started = time.monotonic()
    last_progress = time.monotonic()

    def drain(wait):
        nonlocal bad, last_progress
        ready, _, _ = select.select([udp], [], [], wait)
        while ready:
            data, _ = udp.recvfrom(70000)
            if not data.startswith(b"\x00\x00\x00" + header[3:]) or \
                    data[len(header) + 8:] != filler:
                bad += 1
            else:
                received.add(struct.unpack("!Q", data[len(header):len(header) + 8])[0])
                last_progress = time.monotonic()
            ready, _, _ = select.select([udp], [], [], 0)

    given_up = 0  # datagrams of a stalled window, counted as lost
    while sent < args.count:
        # Keep at most WINDOW unanswered; a window that stalls for the timeout is given up.
        while sent - len(received) - given_up >= args.window and \
                time.monotonic() - last_progress < args.timeout:
            drain(0.05)
        if sent - len(received) - given_up >= args.window:
            given_up = sent - len(received)
            last_progress = time.monotonic()
        udp.sendto(header + struct.pack("!Q", sent) + filler, relay)
        sent += 1
        drain(0)
    deadline = time.monotonic() + args.timeout
    while len(received) < sent and time.monotonic() < deadline:
        drain(0.05)
    elapsed = time.monotonic() - started
    print(json.dumps({"sent": sent, "received": len(received), "lost": sent - len(received),
                      "bad": bad, "seconds": round(elapsed, 3)}))
    sys.stdout.flush()
    control.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # one clear line for the test log
        print(json.dumps({"error": str(error)}))
        sys.exit(1)
