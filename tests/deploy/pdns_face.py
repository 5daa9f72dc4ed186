#!/usr/bin/env python3
"""Runs the real PowerDNS 4.7 with examples/dns-face/pdns.conf in front of a
stand-in for sipresolverd's DNS face, on a unix socket, and checks that its
answers stay fresh.

  pdns_face.py PDNS.CONF [--self-test]

The stand-in speaks PowerDNS's remote backend protocol (JSON over the socket:
initialize, getAllDomains, lookup, ...) for one zone, sip.fleet.example,
with acme.sip.fleet.example A <address> TTL 5. pdns.conf is used as written
but for the paths (socket, socket-dir), the address (127.0.0.1) and the port
(a free one). Checks: pdns_server starts with it, answers from the backend
with the backend's TTL, answers NXDOMAIN with the SOA for an unknown name;
after the backend's answer changes, a query gets the new address before
the old one's TTL (5 s) runs out (about 2 s later): the packet cache
keeps an answer cache-ttl (1 s) plus up to 1 s (PowerDNS counts whole
seconds), and query-cache-ttl=0 (PowerDNS's query cache would keep the old
one 20 s whatever its TTL); `pdns_control purge`
clears the caches at once; when the face restarts (socket removed and made
again) PowerDNS answers SERVFAIL meanwhile, runs on, and reconnects by itself. --self-test runs the same with query-cache-ttl
left at PowerDNS's default, where the freshness check must fail. Exits 1 on
any failure."""
import json
import os
import pathlib
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from checklib import FAILURES, expect

ZONE = "sip.fleet.example."
NAME = "acme." + ZONE


class Backend:
    """A stand-in for the face: PowerDNS's remote backend over a unix socket."""

    def __init__(self, path):
        self.address = "192.0.2.1"
        self.lookups = 0
        self.conns = []
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        os.chmod(path, 0o660)
        self.sock.listen(16)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # stopped
                return
            self.conns.append(conn)
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def stop(self, path):
        """As sipresolverd's exit: the socket and its connections closed, the path removed."""
        self.sock.close()
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        os.unlink(path)

    def answer(self, req):
        method, p = req.get("method"), req.get("parameters", {})
        if method == "initialize":
            return True
        if method in ("getAllDomains",):
            return [{"id": 1, "zone": ZONE, "kind": "native", "serial": 1}]
        if method == "getDomainInfo":
            return {"id": 1, "zone": ZONE, "kind": "native", "serial": 1}
        if method == "lookup":
            self.lookups += 1
            qname, qtype = p["qname"].lower(), p["qtype"]
            out = []
            if qname == ZONE and qtype in ("SOA", "ANY"):
                out.append({"qtype": "SOA", "qname": ZONE, "ttl": 5,
                            "content": "ns1.fleet.example. hostmaster.fleet.example. 1 60 60 60 5"})
            if qname == NAME and qtype in ("A", "ANY"):
                out.append({"qtype": "A", "qname": NAME, "content": self.address, "ttl": 5})
            return out
        return False

    def serve(self, conn):
        buf, decoder = "", json.JSONDecoder()
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data.decode()
            while buf.strip():
                try:
                    req, end = decoder.raw_decode(buf.lstrip())
                except ValueError:
                    break
                buf = buf.lstrip()[end:]
                conn.sendall((json.dumps({"result": self.answer(req)}) + "\n").encode())


def query(port, name, qtype=1):
    """One DNS query over UDP: (rcode, [(type, ttl, rdata)])."""
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    q += struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(4096)
    _, flags, qd, an, ns, _ = struct.unpack(">HHHHHH", r[:12])
    pos = 12

    def skip_name(pos):
        while True:
            n = r[pos]
            if n == 0:
                return pos + 1
            if n & 0xC0:
                return pos + 2
            pos += n + 1

    for _ in range(qd):
        pos = skip_name(pos) + 4
    records = []
    for _ in range(an + ns):
        pos = skip_name(pos)
        rtype, _, ttl, rdlen = struct.unpack(">HHIH", r[pos:pos + 10])
        rdata = r[pos + 10:pos + 10 + rdlen]
        records.append((rtype, ttl, socket.inet_ntoa(rdata) if rtype == 1 else rdata))
        pos += 10 + rdlen
    return flags & 0xF, records


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as t:
        for _ in range(50):
            port = random.randrange(20000, 60000)
            try:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit("no free port")


def run(conf_text, self_test):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="pdns-face."))
    proc = None
    try:
        (tmp / "run").mkdir()
        (tmp / "ctl").mkdir()
        sock = tmp / "run/dns-face.sock"
        port = free_port()
        m = re.search(r"^remote-connection-string=unix:path=([^,\n]+)", conf_text, re.M)
        if not expect(m is not None, "pdns.conf: remote-connection-string=unix:path=..."):
            return
        conf = conf_text.replace(m.group(1), str(sock))
        conf = re.sub(r"^socket-dir=.*$", f"socket-dir={tmp / 'ctl'}", conf, flags=re.M)
        conf = re.sub(r"^local-address=.*$", "local-address=127.0.0.1", conf, flags=re.M)
        conf = re.sub(r"^local-port=.*$", "", conf, flags=re.M) + f"\nlocal-port={port}\n"
        if self_test:
            conf = re.sub(r"^query-cache-ttl=.*$", "", conf, flags=re.M)
        (tmp / "pdns.conf").write_text(conf)
        backend = Backend(str(sock))
        log = open(tmp / "pdns.log", "w")
        proc = subprocess.Popen(["pdns_server", f"--config-dir={tmp}"], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        answer = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = query(port, NAME)
                break
            except OSError:
                time.sleep(0.2)
        if not expect(answer is not None, f"pdns_server starts with pdns.conf and answers on port {port}"):
            print((tmp / "pdns.log").read_text()[-2000:])
            return
        expect(answer == (0, [(1, 5, "192.0.2.1")]),
               f"{NAME} A from the backend over the unix socket, its TTL 5: {answer}")
        rcode, records = query(port, "nope." + ZONE)
        types = [r[0] for r in records]
        expect(rcode == 3 and types == [6], f"an unknown name: NXDOMAIN with the SOA (rcode {rcode}, types {types})")
        # Freshness: the backend's view changes; within cache-ttl (1 s) + 1 s
        # (whole seconds) + a margin, and before the old TTL (5 s) runs out,
        # PowerDNS has it.
        # Polled until the old answer's TTL (5 s) would run out: a busy
        # machine does not slow the caches' clocks.
        backend.address = "192.0.2.2"
        changed = time.monotonic()
        while True:
            answer = query(port, NAME)
            waited = time.monotonic() - changed
            if (answer[1] and answer[1][0][2] == "192.0.2.2") or waited > 4.5:
                break
            time.sleep(0.1)
        expect(answer[1] and answer[1][0][2] == "192.0.2.2",
               f"{waited:.1f} s after the backend changed (the old answer's TTL 5 s not run out), "
               f"the new address: {answer}")
        backend.address = "192.0.2.3"
        query(port, NAME)
        purge = subprocess.run(["pdns_control", f"--config-dir={tmp}", "purge", NAME.rstrip(".") + "$"],
                               capture_output=True, text=True, timeout=10)
        answer = query(port, NAME)
        expect(purge.returncode == 0 and answer[1] and answer[1][0][2] == "192.0.2.3",
               f"pdns_control purge '{NAME.rstrip('.')}$' ({purge.stdout.strip()}): the new address at once: {answer}")
        # sipresolverd restarts (socket removed, then made again): PowerDNS
        # answers SERVFAIL meanwhile, does not exit, and reconnects by itself
        # (the first query on each connection it had open still fails).
        backend.stop(str(sock))
        down = [query(port, f"down{i}.{ZONE}")[0] for i in range(3)]
        backend = Backend(str(sock))
        after = []
        for i in range(12):
            after.append(query(port, f"back{i}.{ZONE}")[0])
            if after[-3:] == [3, 3, 3]:
                break
        expect(proc.poll() is None and set(down) == {2} and after[-3:] == [3, 3, 3] and after.count(2) <= 4,
               f"the face restarts: PowerDNS runs on ({'running' if proc.poll() is None else 'exited'}), "
               f"rcodes while down {down} (SERVFAIL), then {after}: reconnected by itself "
               f"(NXDOMAIN from the new face; <= 4 SERVFAILs first, one per connection it had)")
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    conf = pathlib.Path(sys.argv[1]).read_text()
    self_test = "--self-test" in sys.argv[2:]
    if not shutil.which("pdns_server"):
        raise SystemExit("no pdns_server (Debian: pdns-server pdns-backend-remote)")
    run(conf, self_test)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
