#!/usr/bin/env python3
"""Targets and clients for the front-end integration tests (tests/integration/tst_frontend_*).

Servers bind 127.0.0.1 port 0 and print "PORT <n>" on stdout once listening:
  http DIR     HTTP/1.1 origin: GET serves files of DIR (Content-Length, keep-alive);
               GET /chunked?n=N answers N pattern bytes chunked; GET /unframed?n=N answers N
               bytes without framing and closes; POST /digest answers "<length> <sha256>" of the
               body (Content-Length or chunked).
  echo         TCP echo; the client's FIN is answered with FIN after the echo.
Client:
  client PORT N [--no-half-close]
               sends N pattern bytes to 127.0.0.1:PORT while reading, then (default) shuts down
               its sending side and reads until the server's FIN; with --no-half-close it reads N
               bytes and closes. Prints "RECEIVED <n> <sha256>" and "SENT <sha256>".
"""
import hashlib
import http.server
import socket
import socketserver
import sys
import threading


def pattern(n):
    block = bytes((i * 7 + 3) & 0xFF for i in range(65536))
    out = bytearray()
    while len(out) < n:
        out += block
    return bytes(out[:n])


class Origin(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        n = int(query[2:]) if query.startswith("n=") else 0
        if path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            data = pattern(n)
            for i in range(0, n, 10000):
                part = data[i:i + 10000]
                self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        if path == "/unframed":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(pattern(n))
            self.close_connection = True
            return
        super().do_GET()

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):
        body = self.read_body()
        answer = b"%d %s" % (len(body), hashlib.sha256(body).hexdigest().encode())
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                self.request.shutdown(socket.SHUT_WR)
                return
            self.request.sendall(data)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(handler):
    server = Server(("127.0.0.1", 0), handler)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


def client(port, n, half_close):
    data = pattern(n)
    sock = socket.create_connection(("127.0.0.1", port))

    def send():
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    received = hashlib.sha256()
    count = 0
    while half_close or count < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received.update(chunk)
        count += len(chunk)
    sender.join()
    sock.close()
    print("SENT %s" % hashlib.sha256(data).hexdigest())
    print("RECEIVED %d %s" % (count, received.hexdigest()), flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "http":
        import functools
        serve(functools.partial(Origin, directory=sys.argv[2]))
    elif mode == "echo":
        serve(Echo)
    elif mode == "client":
        client(int(sys.argv[2]), int(sys.argv[3]), "--no-half-close" not in sys.argv)
    else:
        sys.exit("unknown mode " + mode)
