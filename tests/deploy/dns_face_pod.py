"""The DNS face's part of run_pod.py --dns-face: the Deployment's powerdns
container run beside sipresolverd, the way run_pod.py runs sipresolverd.

The image's ENTRYPOINT, examples/dns-face/pdns-after-face at
/usr/local/bin/pdns-after-face (bound over the sandbox's /usr/local/bin, as
in the image), runs with the container's args as PID 1 of its own PID
namespace; it waits for the face's socket and execs the host's
/usr/sbin/pdns_server (Debian's pdns-server and pdns-backend-remote 4.7, what
the image's stage powerdns installs), under the same sandbox: bubblewrap,
uid/gid 65532, a read-only root of the host's /usr, the container's volumes
at their mountPath (the rendered pdns.conf from its ConfigMap, the emptyDirs
writable, the socket's shared with sipresolverd). run_pod.py --pdns-first
starts it before sipresolverd, so the wait is exercised.
One deviation, as for sipresolverd's --listen: PowerDNS's port (the
effective `local-port` of the rendered pdns.conf, which must be a container
port) moves to the free loopback port the container port is mapped to, by
`--local-address=127.0.0.1 --local-port=PORT` on pdns_server's command line
(which wins over pdns.conf). Checks, all bounded: the socket of
--dns_face_socket is a socket in the shared volume; PowerDNS never exited
(restarts: 0) and pdns_server is PID 1 (exec'd by the entrypoint); the
entrypoint with no socket (PDNS_FACE_WAIT=1) exits 1 with a message; the
readiness probe
(tcpSocket) connects, the liveness probe (exec `pdns_control rping`, run in
the same sandbox) answers PONG; the zone apex of the rendered face config
answers SOA NOERROR with AA; a provisioned name's SRV (or A) query is
answered by the backend: NOERROR or SERVFAIL (no DNS in the sandbox, so no
servers are known yet), never a timeout or REFUSED; both processes run as
uid 65532."""
import json
import os
import pathlib
import re
import shutil
import socket
import stat
import subprocess
import time

PDNS_SERVER = "/usr/sbin/pdns_server"
# The image's ENTRYPOINT (Dockerfile, stage powerdns) and its source here.
ENTRYPOINT = "/usr/local/bin/pdns-after-face"
ENTRYPOINT_SOURCE = pathlib.Path(__file__).resolve().parents[2] / "examples/dns-face/pdns-after-face"


def conf_value(text, key, default=None):
    """The effective value of a pdns.conf setting: its last line wins."""
    values = re.findall(rf"^\s*{re.escape(key)}\s*=\s*(.*?)\s*$", text, re.M)
    return values[-1] if values else default


def host_path(mounts, path):
    """The host file behind a path inside the container, or None."""
    for d, mount_path, _ in sorted(mounts, key=lambda m: -len(m[1])):
        prefix = mount_path.rstrip("/") + "/"
        if path.startswith(prefix):
            return pathlib.Path(d) / path[len(prefix):]
    return None


def free_udp_tcp_port(free_port):
    """A loopback port free for both TCP and UDP (DNS is both)."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit("no loopback port free for both TCP and UDP")


def dig(port, name, qtype):
    """(status, flags) of one query to 127.0.0.1:port; status is None on a
    timeout or no answer."""
    res = subprocess.run(["dig", "+norec", "+time=3", "+tries=1", "-p", str(port), "@127.0.0.1", name, qtype],
                         capture_output=True, text=True, timeout=10)
    status = re.search(r"status: (\w+)", res.stdout)
    flags = re.search(r";; flags: ([a-z ]*);", res.stdout)
    return (status.group(1) if status else None), (flags.group(1).split() if flags else [])


class PowerDNS:
    def __init__(self, container, mounts, mapped, work, host_sandbox, expect):
        self.c, self.mounts, self.mapped, self.work, self.expect = container, mounts, mapped, work, expect
        self.proc, self.box = None, None
        args = list(container.get("args", []))
        if container.get("command"):
            args = container["command"][1:] + args
        config_dir = next((a.split("=", 1)[1] for a in args if a.startswith("--config-dir=")), "/etc/powerdns")
        conf_file = host_path(mounts, config_dir.rstrip("/") + "/pdns.conf")
        if conf_file is None or not conf_file.is_file():
            raise SystemExit(f"powerdns: no pdns.conf mounted at {config_dir}")
        self.conf = conf_file.read_text()
        self.port = int(conf_value(self.conf, "local-port", "53"))
        self.local = mapped.get(self.port)
        self.args = args
        # The image's /usr/local/bin: only the entrypoint (its mode as in git).
        bindir = work / f"{container['name']}-usr-local-bin"
        bindir.mkdir(exist_ok=True)
        shutil.copy2(ENTRYPOINT_SOURCE, bindir / pathlib.Path(ENTRYPOINT).name)
        box = host_sandbox(work, PDNS_SERVER, mounts)
        self.box = box[:-2] + ["--ro-bind", str(bindir), str(pathlib.Path(ENTRYPOINT).parent)] + box[-2:]
        self.restarts = []
        self.waited = None  # seconds PowerDNS was started before the face's socket existed

    def start(self):
        name = self.c["name"]
        if not self.expect(self.local is not None,
                           f"{name}: pdns.conf's local-port {self.port} is a container port"):
            return False
        # Its own PID namespace with the image's ENTRYPOINT as PID 1, which
        # execs pdns_server, as in a container: a signal without a handler
        # is ignored there.
        cmd = self.box[:1] + ["--unshare-pid", "--as-pid-1"] + self.box[1:] + [
            ENTRYPOINT, *self.args, "--local-address=127.0.0.1", f"--local-port={self.local}"]
        self.log = open(self.work / f"{name}.log", "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        return True

    def check(self, where, sipresolverd_flags, sipresolverd_mounts, uids_of, wait_for, child_pid):
        expect, name = self.expect, self.c["name"]
        where = f"{where} + {name} (read-only root, uid 65532)"
        flag = sipresolverd_flags.get("dns_face_socket", "")
        remote = conf_value(self.conf, "remote-connection-string", "")
        m = re.search(r"unix:path=([^,]+)", remote)
        sock = host_path(sipresolverd_mounts, flag)
        theirs = host_path(self.mounts, m.group(1)) if m else None
        expect(sock is not None and sock == theirs
               and wait_for(lambda: sock.exists() and stat.S_ISSOCK(sock.stat().st_mode), 5),
               f"{where}: --dns_face_socket={flag} is a socket in the emptyDir both containers mount, "
               f"where pdns.conf's {remote} finds it")

        def tcp_ready():
            if self.proc.poll() is not None:  # restartPolicy Always (the kubelet backs off 10 s first)
                self.restarts.append(self.proc.returncode)
                if len(self.restarts) <= 3:
                    time.sleep(0.5)
                    self.start()
                return False
            try:
                socket.create_connection(("127.0.0.1", self.local), timeout=1).close()
                return True
            except OSError:
                return False
        rp = self.c.get("readinessProbe", {}).get("tcpSocket", {}).get("port")
        expect(rp == self.port and wait_for(tcp_ready, 10) and not self.restarts,
               f"{where}: readiness probe (tcpSocket :{rp}) connects within 10s (mapped to 127.0.0.1:{self.local}); "
               f"restarts: {len(self.restarts)}" + (f" (exit {self.restarts}: PowerDNS 4.7 exits when the face's "
                                                     f"socket is not there yet)" if self.restarts else ""))
        log = self.log_text()
        waited = "pdns-after-face: waiting" in log
        expect((waited or not self.waited) and (not waited or "is there; starting PowerDNS" in log),
               f"{where}: the entrypoint " + (f"waited for the socket (PowerDNS started {self.waited:g}s before "
                                              f"sipresolverd), then started PowerDNS" if self.waited else
                                              "started PowerDNS (right after sipresolverd, as the kubelet does)")
               + f": {[line for line in log.splitlines() if line.startswith('pdns-after-face:')]}")
        pid1 = child_pid_of(self.proc)
        try:
            comm = pathlib.Path(f"/proc/{pid1}/comm").read_text().strip()
            status = pathlib.Path(f"/proc/{pid1}/status").read_text()
            nspid = re.search(r"^NSpid:\s*(.*)$", status, re.M).group(1).split()[-1]  # in its own namespace
        except (OSError, AttributeError):
            comm = nspid = None
        expect(comm == "pdns_server" and nspid == "1",
               f"{where}: {ENTRYPOINT} exec'd pdns_server: PID 1 of the container is {comm} "
               f"(pid {nspid} in its namespace), so the preStop's pdns_control quit stops the container")
        res = subprocess.run(self.box + [ENTRYPOINT, *self.args], capture_output=True, text=True, timeout=15,
                             env={**os.environ, "PDNS_FACE_WAIT": "1",
                                  "PDNS_FACE_SOCKET": m.group(1) + ".missing" if m else "/nonexistent"})
        expect(res.returncode == 1 and "is not a socket after 1s" in res.stderr,
               f"{where}: the entrypoint without the socket (PDNS_FACE_WAIT=1) exits {res.returncode}: "
               f"{res.stderr.strip().splitlines()[-1:]}")
        expect(ns_uids(child_pid(self.proc), uids_of) == [65532] * 4,
               f"{where}: pdns_server's real, effective, saved and file-system uid in its user namespace are 65532")
        lp = self.c.get("livenessProbe", {}).get("exec", {}).get("command")
        if lp:
            res = subprocess.run(self.box + lp, capture_output=True, text=True, timeout=10)
            expect(res.returncode == 0 and "PONG" in res.stdout,
                   f"{where}: liveness probe (exec {' '.join(lp)}, in the container's sandbox): "
                   f"exit {res.returncode} {res.stdout.strip()!r}")

        face_config = host_path(sipresolverd_mounts, sipresolverd_flags.get("dns_face_config", ""))
        zones = json.loads(face_config.read_text())["zones"]
        apex = zones[0]["zone"].rstrip(".") + "."
        soa = wait_for(lambda: (lambda r: r if r[0] == "NOERROR" else None)(dig(self.local, apex, "SOA")), 10, 0.5)
        expect(soa and "aa" in soa[1],
               f"{where}: dig {apex} SOA (the face config's zone apex): {soa or 'no NOERROR within 10s'}, "
               f"NOERROR with AA")
        names = zones[0].get("names", [])
        if names:
            n = names[0]
            fqdn = f"{n['name']}.{apex}"
            publish = n.get("publish", ["srv"])
            transport = (n.get("profile") or {}).get("proxyServerTransport", "")
            if "srv" in publish:
                label = {"TRANSPORT_TCP": "_sip._tcp", "TRANSPORT_TLS": "_sips._tcp"}.get(transport, "_sip._udp")
                qname, qtype = f"{label}.{fqdn}", "SRV"
            else:
                qname, qtype = fqdn, "A"
            status, flags = dig(self.local, qname, qtype)
            expect(status in ("NOERROR", "SERVFAIL"),
                   f"{where}: dig {qname} {qtype} (a provisioned name): {status or 'timeout'} {' '.join(flags)} "
                   f"(the backend answered: NOERROR, or SERVFAIL while no server is known; not a timeout or REFUSED)")
        return apex

    def stop(self, start, tgp, dig_apex=None):
        """Kubernetes' termination of this container: its preStop hook (exec,
        run in the container's sandbox) while PowerDNS answers on, then
        SIGTERM, then SIGKILL when the grace period (counted from `start`)
        runs out; it must exit by itself within the grace period."""
        name = self.c["name"]
        pre = (self.c.get("lifecycle", {}).get("preStop", {}).get("exec", {}) or {}).get("command", [])
        if pre:
            hook = subprocess.Popen(self.box + pre, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            answered = []
            while hook.poll() is None and time.monotonic() < start + tgp:
                if dig_apex and self.proc.poll() is None:
                    answered.append(dig(self.local, dig_apex, "SOA")[0])
                time.sleep(0.5)
            if hook.poll() is None:
                hook.kill()
            out = hook.communicate()[0].decode(errors="replace").strip()
            took = time.monotonic() - start
            self.expect(hook.returncode == 0 and (not dig_apex or (answered and "NOERROR" in answered)),
                        f"{name}: preStop {pre} exit {hook.returncode} after {took:.1f}s {out[-80:]!r}; "
                        f"meanwhile SOA {', '.join(map(str, answered))}")
        how = "exited during its preStop"
        if self.proc.poll() is None:
            how = "preStop, then SIGTERM"
            os.kill(child_pid_of(self.proc), 15)
            try:
                self.proc.wait(timeout=max(0.1, start + tgp - time.monotonic()))
            except subprocess.TimeoutExpired:
                how = "SIGTERM ignored (pdns_server is PID 1 with no SIGTERM handler), SIGKILL at the grace period"
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        took = time.monotonic() - start
        self.expect(rc == 0 and took < tgp, f"{name}: {how} -> exit {rc} {took:.1f}s after the pod's termination "
                                           f"began (terminationGracePeriodSeconds {tgp})")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_text(self):
        f = self.work / f"{self.c['name']}.log"
        return f.read_text(errors="replace") if f.exists() else ""


def ns_uids(pid, uids_of):
    """A process's uids as its own user namespace sees them (uid_map)."""
    host = uids_of(pid)
    try:
        rows = [tuple(map(int, line.split())) for line in pathlib.Path(f"/proc/{pid}/uid_map").read_text().splitlines()]
    except (OSError, TypeError, ValueError):
        return None
    inner = lambda u: next((i + u - o for i, o, n in rows if o <= u < o + n), None)
    return [inner(u) for u in host] if host else None


def child_pid_of(proc):
    try:
        return int(pathlib.Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return proc.pid
