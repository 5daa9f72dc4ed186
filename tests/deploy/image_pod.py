#!/usr/bin/env python3
"""The container image's part of run_pod.py: what a container runtime takes
from the image (ENTRYPOINT, CMD, USER, ENV, WORKDIR, EXPOSE, STOPSIGNAL) and
a bubblewrap sandbox over the image's root file system.

The image's root is a directory (scripts/check-deploy copies it out of
buildah's storage) and its configuration the `OCIv1.config` object of
`buildah inspect`. The sandbox is what a runtime gives a container with
readOnlyRootFilesystem: the image's root bound read-only at /, fresh /proc
and /dev, the host's /etc/resolv.conf and /etc/hosts (a runtime provides
those), the volumes, the host's network (loopback ports).
When run by root, the sandbox is entered as the container's uid and gid for
real (setpriv, then an unprivileged bwrap), so files the image keeps from
other users stay closed to it.

Also a command of its own, for checks that need no pod:
  image_pod.py exec ROOT CONFIG.json COMMAND...   runs COMMAND in the sandbox
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys


def load_config(path):
    return json.loads(pathlib.Path(path).read_text()) or {}


def command(config, container):
    """The argv Kubernetes runs: `command` replaces ENTRYPOINT (and drops CMD),
    `args` replaces CMD."""
    if "command" in container:
        return list(container["command"]) + list(container.get("args", []))
    cmd = container["args"] if "args" in container else (config.get("Cmd") or [])
    return list(config.get("Entrypoint") or []) + list(cmd)


def _entries(root, table):
    path = pathlib.Path(root) / "etc" / table
    lines = path.read_text().splitlines() if path.is_file() else []
    return [f for f in (line.split(":") for line in lines) if len(f) > 3 and f[2].isdigit()]


def user_of(config, root, pod_spec=None, container=None):
    """(uid, gid, problem): the image's USER as a runtime reads it (a name or
    a uid without a group takes the primary group of /etc/passwd, else 0),
    overridden by the pod's and the container's securityContext. A problem
    when that is root, or when runAsNonRoot is asked for and the kubelet
    could not verify it (a user name instead of a number)."""
    ctx = dict((pod_spec or {}).get("securityContext") or {})
    ctx.update((container or {}).get("securityContext") or {})
    user, _, group = (config.get("User") or "").partition(":")
    passwd = _entries(root, "passwd")
    if user and not user.isdigit() and ctx.get("runAsNonRoot") and "runAsUser" not in ctx:
        return None, None, f"USER {user!r} is not numeric: runAsNonRoot cannot verify it is not root"
    entry = next((f for f in passwd if user in (f[0], f[2])), None) if user else None
    if user and not user.isdigit() and entry is None:
        return None, None, f"USER {user!r} is not in the image's /etc/passwd"
    uid = int(user) if user.isdigit() else int(entry[2]) if entry else 0
    gid = int(entry[3]) if entry and entry[3].isdigit() else 0
    if group:
        named = next((f for f in _entries(root, "group") if f[0] == group), None)
        if not group.isdigit() and named is None:
            return None, None, f"USER group {group!r} is not in the image's /etc/group"
        gid = int(group) if group.isdigit() else int(named[2])
    uid = ctx.get("runAsUser", uid)
    gid = ctx.get("runAsGroup", gid)
    if uid == 0:
        return uid, gid, "runs as root: no non-root USER in the image and no runAsUser"
    return uid, gid, None


def environment(config, extra=None):
    env = dict(e.split("=", 1) for e in config.get("Env") or [])
    env.update(extra or {})
    return env


def sandbox(root, config, uid, gid, mounts=(), hide=()):
    """argv prefix running a command inside the image as uid:gid. `mounts`:
    (host dir, path) pairs bound read-only; `hide`: image files replaced by
    an empty one (the harness's own test of a missing library). Creates the
    mount points in `root` (a copy of the image's root) first, as a runtime
    does in the container's own layer: a read-only root cannot get them later."""
    for f in ("/etc/resolv.conf", "/etc/hosts"):
        target = pathlib.Path(root) / f.lstrip("/")
        if os.path.exists(f) and not target.exists():
            target.touch()
    for _, path in mounts:
        (pathlib.Path(root) / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
    box = [shutil.which("bwrap"), "--unshare-user", "--uid", str(uid), "--gid", str(gid),
           "--die-with-parent", "--bind", str(root), "/", "--proc", "/proc", "--dev", "/dev",
           "--chdir", config.get("WorkingDir") or "/"]
    for f in ("/etc/resolv.conf", "/etc/hosts"):
        if os.path.exists(f):
            box += ["--ro-bind", f, f]
    for d, path in mounts:
        box += ["--ro-bind", str(d), path]
    for f in hide:
        box += ["--ro-bind", "/dev/null", f]
    box += ["--remount-ro", "/"]
    if os.geteuid() == 0:  # Enter as the container's user, not as root mapped to it.
        box = [shutil.which("setpriv"), f"--reuid={uid}", f"--regid={gid}", "--clear-groups"] + box
    return box


def docker_run_deployment(config):
    """`docker run --read-only IMAGE` as a Deployment run_pod.py understands:
    the CMD's listen ports as container ports (only EXPOSEd ones), gRPC health
    probes on --listen, metrics annotations from --metrics_listen, `docker
    stop`'s 10 s before SIGKILL as the grace period."""
    flags = {}
    for a in config.get("Cmd") or []:
        m = re.fullmatch(r"--([a-z_]+)=(.*)", a)
        if m:
            flags[m.group(1)] = m.group(2)
    port = lambda flag: int(flags[flag].rsplit(":", 1)[1]) if flag in flags else None
    grpc, metrics = port("listen") or 50051, port("metrics_listen")
    names = {grpc: "grpc", metrics: "metrics"}
    ports = [{"name": names.get(p, f"port-{p}"), "containerPort": p}
             for p in sorted(int(k.split("/")[0]) for k in config.get("ExposedPorts") or {})]
    container = {
        "name": "docker-run", "ports": ports,
        "readinessProbe": {"grpc": {"port": grpc, "service": "sipresolver.v1.SipResolver"}},
        "livenessProbe": {"grpc": {"port": grpc, "service": ""}},
    }
    annotations = {}
    if metrics:
        annotations = {"prometheus.io/scrape": "true", "prometheus.io/port": str(metrics),
                       "prometheus.io/path": "/metrics"}
    return {"kind": "Deployment", "metadata": {"name": "docker run --read-only"},
            "spec": {"template": {"metadata": {"annotations": annotations},
                                  "spec": {"terminationGracePeriodSeconds": 10,
                                           "containers": [container]}}}}


def main(argv):
    if len(argv) < 4 or argv[0] != "exec":
        print(__doc__, file=sys.stderr)
        return 2
    root, config = argv[1], load_config(argv[2])
    uid, gid, problem = user_of(config, root)
    if problem:
        print(f"image {problem}", file=sys.stderr)
        return 1
    return subprocess.run(sandbox(root, config, uid, gid) + argv[3:], env=environment(config)).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
