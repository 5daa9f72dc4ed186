#!/usr/bin/env python3
"""Runs the real sipresolverd the way a rendered Deployment says, and probes
it the way the kubelet and Prometheus would.

  run_pod.py --binary BIN RENDERED.yaml [--secret NAME=DIR]... [--tls-client DIR]
             [--then CMD] [--dns-face]
  run_pod.py --image-root DIR --image-config CONFIG.json (RENDERED.yaml | --docker-run)
             [--cli PATH] [--hide PATH]...

With --image-root the container image itself runs (image_pod.py): its
ENTRYPOINT with the Deployment's args (Kubernetes' command/args rules), or
with --docker-run its ENTRYPOINT + CMD and EXPOSEd ports as `docker run
--read-only` would; the user is the image's USER unless the securityContext
says otherwise, and root is a failure; the sandbox's root is the image's,
read-only, entered as that uid (checked in /proc); its STOPSIGNAL stops it;
--cli PATH runs the image's CLI against it (Resolve of an IP literal).

From the Deployment's first container: the arguments with $(VAR) expanded
from env (ConfigMap/Secret keys of the rendered objects), the volumes
(rendered Secrets and ConfigMaps, or --secret directories for Secrets the
manifests expect to exist) mounted at their mountPath. With bubblewrap
(`bwrap`) it runs as in the image: uid 65532, a read-only root file system
holding only /usr, a few /etc files and the mounted volumes. One deviation:
the listen addresses (--listen, --metrics_listen, --health_listen) move to
free ports on 127.0.0.1 (the pod's container ports mapped to them), and the
pod's resolv.conf names 127.0.0.1 (no DNS server there), so nothing leaves
loopback. emptyDir volumes are one directory shared by the containers.

--dns-face: the Deployment's powerdns container runs too, started right
after sipresolverd as the kubelet does (--pdns-first S: S seconds before
it, so its entrypoint must wait for the face's socket), and is queried and
stopped with it (dns_face_pod.py).

Checks, all bounded: the readiness and liveness probes (grpc.health.v1.Health
/Check with the probe's service name, plaintext HTTP/2 as the kubelet sends
it) answer SERVING; with TLS on --listen, plaintext is refused there and, given
--tls-client DIR (ca.crt, client.crt, client.key), a TLS health check with the
client certificate is SERVING and one without is refused; the metrics port
and path of the prometheus.io annotations serve sipresolver_serving 1; --then
CMD runs while the pod serves (env: SIPRESOLVER_POD_JSON); on SIGTERM the
readiness probe turns NOT_SERVING during the drain and the process exits 0
within terminationGracePeriodSeconds. With --log_format=json in the args,
every line the process wrote is a JSON object with time, severity, message.
"""
import argparse
import base64
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import yaml

import dns_face_pod
import image_pod

FAILURES = []


def ok(msg):
    print(f"  ok   {msg}", flush=True)


def fail(msg):
    print(f"  FAIL {msg}", flush=True)
    FAILURES.append(msg)


def expect(cond, msg):
    (ok if cond else fail)(msg)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def grpc_frame(service):
    msg = b"" if not service else b"\x0a" + bytes([len(service)]) + service.encode()
    return b"\x00" + len(msg).to_bytes(4, "big") + msg


def health_check(url, service, extra=()):
    """grpc.health.v1.Health/Check over HTTP/2: 1 SERVING, 2 NOT_SERVING,
    0 UNKNOWN, None when the call failed (refused, TLS error, grpc-status != 0)."""
    h2 = ["--http2-prior-knowledge"] if url.startswith("http:") else []
    with tempfile.NamedTemporaryFile() as hdr:
        res = subprocess.run(
            ["curl", "-s", *h2, "--max-time", "2", "-X", "POST", "-H", "content-type: application/grpc",
             "-H", "te: trailers", "--data-binary", "@-", "-D", hdr.name, *extra,
             f"{url}/grpc.health.v1.Health/Check"],
            input=grpc_frame(service), capture_output=True)
        headers = pathlib.Path(hdr.name).read_text(errors="replace")
    if res.returncode != 0 or not re.search(r"grpc-status: 0\b", headers):
        return None
    body = res.stdout
    if len(body) < 5:
        return None
    msg = body[5:5 + int.from_bytes(body[1:5], "big")]
    return msg[1] if len(msg) >= 2 and msg[0] == 0x08 else 0


def wait_for(fn, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def seconds(text):
    units = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    if text in ("", "0"):
        return 0.0
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text))


def uids_of(pid):
    """Real, effective, saved and file-system uid of a process."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return None
    return [int(u) for u in re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()]


def host_sandbox(work, binary, mounts):
    """bwrap argv prefix: the host's /usr read-only as the image's, a few /etc
    files, uid/gid 65532, the volumes at their mountPath (emptyDirs
    writable unless mounted readOnly). The pod's resolv.conf names
    127.0.0.1, where no DNS server listens, so no lookup leaves loopback
    (in a cluster it names the cluster's DNS)."""
    resolv = work / "resolv.conf"
    if not resolv.exists():
        resolv.write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")
        os.chmod(resolv, 0o444)
    box = ["bwrap", "--unshare-user", "--uid", "65532", "--gid", "65532", "--die-with-parent",
           "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
           "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin", "--dir", "/etc",
           "--proc", "/proc", "--dev", "/dev", "--ro-bind", str(resolv), "/etc/resolv.conf"]
    for f in ("/etc/ssl", "/etc/hosts", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/ld.so.cache"):
        if os.path.exists(f):
            box += ["--ro-bind", f, f]
    if not binary.startswith("/usr/"):
        box += ["--ro-bind", binary, binary]
    for d, path, writable in mounts:
        box += ["--bind" if writable else "--ro-bind", str(d), path]
    return box + ["--remount-ro", "/"]


def child_pid(proc):
    """bwrap's child: the sandboxed process."""
    try:
        return int(pathlib.Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def check_json_log(where, text):
    """--log_format=json: every line one JSON object with an RFC 3339 time, a
    severity and a message; the start line names the listen address."""
    lines = [line for line in text.splitlines() if line.strip()]
    bad, started = [], False
    for line in lines:
        try:
            o = json.loads(line)
        except ValueError:
            o = None
        if not (isinstance(o, dict) and isinstance(o.get("message"), str)
                and o.get("severity") in ("INFO", "WARNING", "ERROR")
                and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", str(o.get("time")))):
            bad.append(line)
        elif o["message"] == "serving gRPC" and "listen" in o:
            started = True
    expect(lines and not bad and started,
           f"{where}: --log_format=json: {len(lines)} log lines, each a JSON object with time (RFC 3339), "
           f"severity, message; 'serving gRPC' names the listen address" + (f"; not: {bad[:2]}" if bad else ""))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", help="sipresolverd on the host, run over its /usr")
    p.add_argument("--image-root", help="the image's root file system: run its ENTRYPOINT there instead")
    p.add_argument("--image-config", help="the image's OCI config (JSON), with --image-root")
    p.add_argument("--docker-run", action="store_true",
                   help="no RENDERED: run the image as `docker run --read-only IMAGE` (CMD, EXPOSE)")
    p.add_argument("--cli", help="with --image-root: the image's CLI, which must resolve through the pod")
    p.add_argument("--hide", action="append", default=[], help="image file to replace by an empty one")
    p.add_argument("--secret", action="append", default=[], help="NAME=DIR for a Secret not in the manifests")
    p.add_argument("--tls-client", help="DIR with ca.crt, client.crt, client.key")
    p.add_argument("--tls-name", default="sipresolver.test", help="name in the server certificate")
    p.add_argument("--then", help="command to run while the pod serves")
    p.add_argument("--dns-face", action="store_true",
                   help="run the Deployment's powerdns container too (dns_face_pod.py) and query it")
    p.add_argument("--pdns-first", type=float, metavar="S",
                   help="with --dns-face: start powerdns S seconds before sipresolverd")
    p.add_argument("rendered", nargs="?")
    ns = p.parse_args()
    if bool(ns.binary) == bool(ns.image_root) or bool(ns.rendered) == ns.docker_run:
        p.error("--binary or --image-root, and RENDERED or --docker-run")
    if ns.dns_face and not ns.binary:
        p.error("--dns-face runs the host's pdns_server: with --binary")
    if ns.pdns_first and not ns.dns_face:
        p.error("--pdns-first: with --dns-face")
    image = image_pod.load_config(ns.image_config) if ns.image_root else None

    if ns.docker_run:
        docs = [image_pod.docker_run_deployment(image)]
    else:
        docs = [d for d in yaml.safe_load_all(pathlib.Path(ns.rendered).read_text()) if d]
    dep = next(d for d in docs if d["kind"] == "Deployment")
    pod = dep["spec"]["template"]
    spec, c = pod["spec"], pod["spec"]["containers"][0]
    annotations = pod["metadata"].get("annotations", {})
    objects = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    external = dict(s.split("=", 1) for s in ns.secret)

    def data_of(kind, name):
        if kind == "Secret" and name in external:
            return {f.name: f.read_bytes() for f in pathlib.Path(external[name]).iterdir() if f.is_file()}
        obj = objects.get((kind, name))
        if obj is None:
            raise SystemExit(f"{kind} {name} is neither rendered nor given with --secret")
        out = {k: v.encode() for k, v in (obj.get("stringData") or {}).items()}
        for k, v in (obj.get("data") or {}).items():
            out[k] = base64.b64decode("".join(v.split())) if kind == "Secret" else v.encode()
        return out

    work = pathlib.Path(tempfile.mkdtemp(prefix="sipresolver-pod-"))
    os.chmod(work, 0o755)  # Volumes readable by the container's uid.
    proc = pdns = None
    try:
        # Environment and $(VAR) expansion, as the kubelet does.
        env = {}
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = e["value"]
            else:
                ref = e["valueFrom"].get("configMapKeyRef") or e["valueFrom"].get("secretKeyRef")
                kind = "ConfigMap" if "configMapKeyRef" in e["valueFrom"] else "Secret"
                env[e["name"]] = data_of(kind, ref["name"])[ref["key"]].decode()
        argv = image_pod.command(image, c) if image is not None else [None, *c.get("args", [])]
        args = [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), a)
                for a in argv[1:]]

        # Volumes: one directory each, mounted at mountPath.
        volumes = {v["name"]: v for v in spec.get("volumes", []) or []}

        def volume_mounts(container):
            """(host directory, mountPath, writable) of a container's volumes:
            Secrets and ConfigMaps (their `items` when listed) read-only,
            emptyDirs one directory shared by every container that mounts it."""
            out = []
            for m in container.get("volumeMounts", []) or []:
                v = volumes[m["name"]]
                d = work / "volumes" / m["name"]
                d.mkdir(parents=True, exist_ok=True)
                if "emptyDir" in v:
                    out.append((d, m["mountPath"], not m.get("readOnly", False)))
                    continue
                if "secret" in v:
                    files = data_of("Secret", v["secret"]["secretName"])
                    items = v["secret"].get("items")
                elif "configMap" in v:
                    files = data_of("ConfigMap", v["configMap"]["name"])
                    items = v["configMap"].get("items")
                else:
                    raise SystemExit(f"volume {m['name']}: only secret, configMap and emptyDir volumes are emulated")
                for key, path in ([(i["key"], i["path"]) for i in items] if items else [(k, k) for k in files]):
                    f = d / path
                    if not f.exists():
                        f.parent.mkdir(parents=True, exist_ok=True)
                        f.write_bytes(files[key])
                        os.chmod(f, 0o444)
                out.append((d, m["mountPath"], False))
            return out

        mounts = volume_mounts(c)

        # Container ports -> free loopback ports.
        mapped = {}
        for container in spec["containers"] if ns.dns_face else [c]:
            for port in container.get("ports", []):
                if port.get("protocol") == "UDP":  # DNS: the same port for UDP and TCP
                    mapped.setdefault(port["containerPort"], dns_face_pod.free_udp_tcp_port(free_port))
                else:
                    mapped.setdefault(port["containerPort"], free_port())
        flags = {}
        for i, a in enumerate(args):
            m = re.fullmatch(r"--(listen|metrics_listen|health_listen)=(.*):(\d+)", a)
            if m:
                port = int(m.group(3))
                if not expect(port in mapped, f"--{m.group(1)} port {port} is a container port"):
                    return 1
                args[i] = f"--{m.group(1)}=127.0.0.1:{mapped[port]}"
            m = re.fullmatch(r"--([a-z_]+)=(.*)", a, re.S)
            if m:
                flags[m.group(1)] = m.group(2)

        binary = argv[0] if image is not None else str(pathlib.Path(ns.binary).resolve())
        cmd = [binary, *args]
        sandboxed = shutil.which("bwrap") is not None and subprocess.run(
            ["bwrap", "--unshare-user", "--ro-bind", "/", "/", "true"], capture_output=True).returncode == 0
        proc_env = None
        if image is not None:
            uid, gid, problem = image_pod.user_of(image, ns.image_root, spec, c)
            if not expect(problem is None, f"{dep['metadata']['name']}: the image's user: {problem or f'{uid}:{gid}'}"):
                return 1
            if not expect(sandboxed, "bwrap runs: the image's root needs the sandbox"):
                return 1
            cmd = image_pod.sandbox(ns.image_root, image, uid, gid, [(d, path) for d, path, _ in mounts], ns.hide) + cmd
            proc_env = image_pod.environment(image, env)
        elif sandboxed:
            cmd = host_sandbox(work, binary, mounts) + cmd
        else:
            print("  note bwrap unusable: running without the read-only root and uid 65532 (volumes by path)")
            for i, a in enumerate(cmd):
                for d, path, _ in mounts:
                    cmd[i] = cmd[i].replace(path.rstrip("/") + "/", str(d) + "/")
        if ns.dns_face:
            pc = next((x for x in spec["containers"] if x["name"] == "powerdns"), None)
            if not expect(pc is not None and sandboxed, "the Deployment has a powerdns container; bwrap runs"):
                raise RuntimeError("no powerdns")
            pdns = dns_face_pod.PowerDNS(pc, volume_mounts(pc), mapped, work, host_sandbox, expect)
            if ns.pdns_first:  # before the face's socket exists: its entrypoint waits
                if not pdns.start():
                    raise RuntimeError("powerdns not started")
                pdns.waited = ns.pdns_first
                time.sleep(ns.pdns_first)
        log = open(work / "sipresolverd.log", "wb")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=proc_env)
        if pdns is not None and not ns.pdns_first:  # the next container, started right after, as the kubelet does
            if not pdns.start():
                raise RuntimeError("powerdns not started")

        def server_pid():
            return child_pid(proc) if sandboxed else proc.pid  # bwrap's child is sipresolverd

        if image is not None:
            where = f"{dep['metadata']['name']} (image, read-only root, uid {uid})"
        else:
            where = dep["metadata"]["name"] + (" (read-only root, uid 65532)" if sandboxed else "")
        probe = {}
        for kind in ("readinessProbe", "livenessProbe"):
            g = c[kind]["grpc"]
            probe[kind] = (f"http://127.0.0.1:{mapped[g['port']]}", g.get("service", ""))
        url, service = probe["readinessProbe"]
        # (until SERVING, or the process exits: then at once)
        if not expect(wait_for(lambda: proc.poll() is not None or health_check(url, service) == 1, 10)
                      and proc.poll() is None,
                      f"{where}: readiness probe (gRPC :{c['readinessProbe']['grpc']['port']} \"{service}\") SERVING within 10s"):
            raise RuntimeError("not ready")
        url, service = probe["livenessProbe"]
        expect(health_check(url, service) == 1,
               f"{where}: liveness probe (gRPC :{c['livenessProbe']['grpc']['port']} \"{service}\") SERVING")

        grpc_port = next(p["containerPort"] for p in c["ports"] if p["name"] == "grpc")
        grpc_local = mapped[grpc_port]
        if flags.get("tls_cert_file"):
            expect(health_check(f"http://127.0.0.1:{grpc_local}", "") is None,
                   f"{where}: gRPC port {grpc_port} refuses plaintext (TLS)")
            if ns.tls_client:
                t = pathlib.Path(ns.tls_client)
                tls = ["--http2", "--cacert", str(t / "ca.crt"), "--resolve", f"{ns.tls_name}:{grpc_local}:127.0.0.1"]
                https = f"https://{ns.tls_name}:{grpc_local}"
                expect(health_check(https, "sipresolver.v1.SipResolver",
                                    tls + ["--cert", str(t / "client.crt"), "--key", str(t / "client.key")]) == 1,
                       f"{where}: TLS with a client certificate: SERVING")
                if flags.get("tls_client_ca_file"):
                    expect(health_check(https, "sipresolver.v1.SipResolver", tls) is None,
                           f"{where}: TLS without a client certificate: refused (mutual TLS)")
        else:
            expect(health_check(f"http://127.0.0.1:{grpc_local}", "sipresolver.v1.SipResolver") == 1,
                   f"{where}: gRPC port {grpc_port} serves plaintext health checks")

        metrics_url = None
        if annotations.get("prometheus.io/scrape") == "true":
            port = int(annotations["prometheus.io/port"])
            metrics_url = f"http://127.0.0.1:{mapped[port]}{annotations.get('prometheus.io/path', '/metrics')}"
            res = subprocess.run(["curl", "-s", "--max-time", "3", metrics_url], capture_output=True, text=True)
            expect(re.search(r"^sipresolver_serving 1$", res.stdout, re.M) is not None,
                   f"{where}: metrics at the annotated port {port} {annotations.get('prometheus.io/path')}: sipresolver_serving 1")

        if image is not None:
            expect(uids_of(server_pid()) == [uid] * 4,
                   f"{where}: the process's real, effective, saved and file-system uid are {uid}")
            if ns.cli and not flags.get("tls_cert_file"):
                res = subprocess.run(image_pod.sandbox(ns.image_root, image, uid, gid) + [
                    ns.cli, f"--server=127.0.0.1:{grpc_local}", "--timeout=5s", "resolve", "192.0.2.7"],
                    env=image_pod.environment(image), capture_output=True, text=True, timeout=20)
                expect(res.returncode == 0 and "192.0.2.7" in res.stdout,
                       f"{where}: the image's {ns.cli} resolves 192.0.2.7 through it: exit {res.returncode} "
                       f"{(res.stdout + res.stderr).strip().splitlines()[-1:]}")

        dns_apex = None
        if pdns is not None:
            dns_apex = pdns.check(where, flags, mounts, uids_of, wait_for, child_pid)

        if ns.then:
            info = {"ports": {str(k): v for k, v in mapped.items()}, "labels": pod["metadata"].get("labels", {}),
                    "annotations": annotations, "namespace": dep["metadata"].get("namespace", "default"),
                    "name": dep["metadata"]["name"], "metrics_url": metrics_url}
            rc = subprocess.run(ns.then, shell=True, env={**os.environ, "SIPRESOLVER_POD_JSON": json.dumps(info)}).returncode
            expect(rc == 0, f"{where}: the --then checks passed while the pod served")

        # SIGTERM (the image's STOPSIGNAL): NOT_SERVING during the drain,
        # exit 0 within the grace period.
        tgp = spec.get("terminationGracePeriodSeconds", 30)
        drain = seconds(flags.get("shutdown_drain_delay", "0"))
        stop = (image or {}).get("StopSignal") or "SIGTERM"
        start = time.monotonic()
        os.kill(server_pid(), int(stop) if stop.isdigit() else signal.Signals[stop])
        url, service = probe["readinessProbe"]
        if drain >= 1:
            expect(wait_for(lambda: health_check(url, service) == 2, min(drain, 3)) == True,
                   f"{where}: after SIGTERM the readiness probe reports NOT_SERVING during the {drain:g}s drain")
        ended = []  # when sipresolverd exits, while the powerdns container stops
        waiter = threading.Thread(target=lambda: (proc.wait(), ended.append(time.monotonic())), daemon=True)
        waiter.start()
        if pdns is not None:  # meanwhile the powerdns container's preStop, then its SIGTERM
            pdns.stop(start, tgp, dns_apex)
        waiter.join(timeout=max(0.1, start + tgp - time.monotonic()))
        rc = proc.returncode if ended else None
        took = (ended[0] if ended else time.monotonic()) - start
        expect(rc == 0, f"{where}: {stop} -> exit {rc} after {took:.1f}s (terminationGracePeriodSeconds {tgp})")
        if flags.get("log_format") == "json":
            check_json_log(where, (work / "sipresolverd.log").read_text(errors="replace"))
    except RuntimeError:
        pass
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if pdns is not None:
            pdns.kill()
        if FAILURES:
            log_path = work / "sipresolverd.log"
            if log_path.exists():
                print("  --- sipresolverd log ---\n" + log_path.read_text(errors="replace")[-3000:])
            if pdns is not None:
                print("  --- powerdns log ---\n" + pdns.log_text()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
