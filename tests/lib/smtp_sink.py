#!/usr/bin/python3
"""A minimal SMTP sink for the tests: accepts every message on ADDR:PORT
and stores it as DIR/<n>.eml (exactly the DATA bytes, dot-unstuffed,
CRLF line ends). Loopback only: refuses any address outside 127.0.0.0/8.
Usage: smtp_sink.py ADDR PORT DIR   (writes DIR/ready once listening)"""
import ipaddress
import os
import socketserver
import sys

addr, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if not ipaddress.ip_address(addr).is_loopback:
    sys.exit("smtp_sink: loopback addresses only")
count = [0]


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())

    def handle(self):
        self.reply("220 sink.test ESMTP test sink")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("ascii", "replace").strip().upper()
            if cmd.startswith("EHLO"):
                self.wfile.write(b"250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n")
            elif cmd.startswith("HELO"):
                self.reply("250 sink.test")
            elif cmd.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self.reply("250 OK")
            elif cmd == "DATA":
                self.reply("354 go ahead")
                data = []
                while True:
                    l = self.rfile.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data.append(l.rstrip(b"\r\n") + b"\r\n")
                count[0] += 1
                path = os.path.join(outdir, "%d.eml" % count[0])
                with open(path + ".tmp", "wb") as f:
                    f.write(b"".join(data))
                os.rename(path + ".tmp", path)
                self.reply("250 OK stored")
            elif cmd == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Server((addr, port), Handler) as srv:
    open(os.path.join(outdir, "ready"), "w").close()
    srv.serve_forever()
