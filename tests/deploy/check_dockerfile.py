#!/usr/bin/env python3
"""Static checks of the Dockerfile against the real binaries.

  check_dockerfile.py --help-file H --root DIR --binary B [--binary B2]

Stages build (debian:12 with scripts/install-deps), runtime (debian:12-slim,
the last, so the default target) and powerdns (debian:12-slim, the DNS face's
PowerDNS, first); Release with tests off, both targets; ENTRYPOINT, CMD flags
real and at the flags' default addresses, EXPOSE, non-root uid 65532, no
VOLUME; the runtime package list covers `dpkg -S` of every `ldd` line of each
binary and every package exists in the archive; the powerdns stage installs
pdns-server and pdns-backend-remote, runs pdns_server with the example
pdns.conf as uid 65532 through the entrypoint examples/dns-face/pdns-after-face
(executable, sh, waits for the face's socket, execs pdns_server) and exposes
its local-port; .dockerignore leaves out build output."""
import argparse
import json
import pathlib
import re
import subprocess
import sys

from checklib import check_flags, expect, FAILURES, parse_args, parse_help, port_of


# --- Dockerfile ---------------------------------------------------------------------

def dockerfile_stages(text):
    text = re.sub(r"\\\n", " ", text)
    stages, cur = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, rest = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.search(r"\s+AS\s+(\S+)$", rest, re.I)
            cur = {"from": rest, "name": m.group(1) if m else "", "lines": []}
            stages.append(cur)
        elif cur is not None:
            cur["lines"].append((instr, rest.strip()))
    return stages


def ldd_packages(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    pkgs = {}
    for line in out.splitlines():
        m = re.search(r"=> (/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if not m:
            continue
        lib = m.group(1)
        res = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
        if res.returncode != 0:
            real = subprocess.run(["readlink", "-f", lib], capture_output=True, text=True).stdout.strip()
            res = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True)
        pkg = res.stdout.split(":")[0].strip() if res.returncode == 0 else None
        pkgs[lib] = pkg
    return pkgs


def cmd_dockerfile(ns):
    flags = parse_help(ns.help_file)
    root = pathlib.Path(ns.root)
    text = (root / "Dockerfile").read_text()
    stages = dockerfile_stages(text)
    names = [s["name"] for s in stages]
    if not expect(sorted(names) == ["build", "powerdns", "runtime"] and names[-1] == "runtime",
                  f"Dockerfile: stages build, runtime (last: the default target) and powerdns ({names})"):
        return
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))

    def base(stage):
        return re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), stage["from"].split()[0])

    build, runtime, powerdns = (next(s for s in stages if s["name"] == n) for n in ("build", "runtime", "powerdns"))
    expect(base(build) == "debian:12", f"Dockerfile: build stage on debian:12 ({base(build)})")
    expect(base(runtime) == "debian:12-slim", f"Dockerfile: runtime stage on debian:12-slim ({base(runtime)})")
    runs = " ".join(r for i, r in build["lines"] if i == "RUN")
    expect("scripts/install-deps build" in runs, "Dockerfile: build stage installs scripts/install-deps' build packages")
    cm = re.search(r"cmake -S \S+ -B \S+ (.*?)&&", runs)
    expect(cm and "-DCMAKE_BUILD_TYPE=Release" in cm.group(1) and "-DSIPRESOLVER_BUILD_TESTS=OFF" in cm.group(1),
           "Dockerfile: cmake configures Release with tests off")
    expect(re.search(r"--target sipresolverd sipresolver\b", runs) is not None,
           "Dockerfile: builds the targets sipresolverd and sipresolver")

    rl = dict()
    for instr, rest in runtime["lines"]:
        rl.setdefault(instr, []).append(rest)
    entry = json.loads(rl.get("ENTRYPOINT", ["[]"])[-1])
    cmd = json.loads(rl.get("CMD", ["[]"])[-1])
    expect(entry == ["/usr/local/bin/sipresolverd"], f"Dockerfile: ENTRYPOINT {entry}")
    check_flags("Dockerfile CMD", cmd, flags)
    cmd_values = dict(p for p in parse_args(cmd) if p[0])
    expect(cmd_values.get("listen") == flags["listen"] and cmd_values.get("metrics_listen") == flags["metrics_listen"],
           f"Dockerfile: CMD listens where the flags' defaults do ({flags['listen']}, {flags['metrics_listen']})")
    exposed = {int(p.split("/")[0]) for e in rl.get("EXPOSE", []) for p in e.split()}
    wanted = {port_of(flags["listen"]), port_of(flags["metrics_listen"])}
    expect(wanted <= exposed, f"Dockerfile: EXPOSE {sorted(exposed)} covers gRPC and metrics ports {sorted(wanted)}")
    user = rl.get("USER", [""])[-1]
    expect(user.split(":")[0] == "65532", f"Dockerfile: runs as non-root uid 65532 (USER {user})")
    expect(not any(v for v in rl.get("VOLUME", [])), "Dockerfile: no VOLUME (nothing written at run time)")

    install = " ".join(r for i, r in runtime["lines"] if i == "RUN")
    m = re.search(r"apt-get install (.*?)&&", install)
    listed = {w for w in (m.group(1).split() if m else []) if not w.startswith("-")}
    expect(bool(listed), f"Dockerfile: runtime packages: {' '.join(sorted(listed))}")
    for binary in ns.binary:
        libs = ldd_packages(binary)
        unknown = [lib for lib, pkg in libs.items() if pkg is None and "ld-linux" not in lib]
        missing = sorted({pkg for pkg in libs.values() if pkg and pkg not in listed})
        expect(not unknown and not missing,
               f"Dockerfile: runtime packages cover `ldd {pathlib.Path(binary).name}` "
               f"({len(libs)} libraries from {len({p for p in libs.values() if p})} packages)"
               + (f"; missing: {missing}" if missing else "") + (f"; no package: {unknown}" if unknown else ""))
    res = subprocess.run(["apt-cache", "show", "--no-all-versions", *sorted(listed)], capture_output=True, text=True)
    found = set(re.findall(r"^Package: (\S+)", res.stdout, re.M))
    expect(listed <= found, "Dockerfile: every runtime package exists in the Debian archive"
           + (f" (not found: {sorted(listed - found)})" if listed - found else ""))

    check_powerdns(root, powerdns, base)

    ignore = (root / ".dockerignore").read_text().split()
    expect("build" in ignore and ".git" in ignore and "**/node_modules" in ignore,
           ".dockerignore: leaves out build/, .git and node_modules")


def check_powerdns(root, stage, base):
    """The DNS face's PowerDNS (docs/dns-face.md): Debian's packages, the
    example pdns.conf, uid 65532 (the face's socket is mode 0660), its port."""
    lines = dict()
    for instr, rest in stage["lines"]:
        lines.setdefault(instr, []).append(rest)
    expect(base(stage) == "debian:12-slim", f"Dockerfile powerdns: on debian:12-slim ({base(stage)})")
    install = " ".join(lines.get("RUN", []))
    m = re.search(r"apt-get install (.*?)&&", install)
    listed = {w for w in (m.group(1).split() if m else []) if not w.startswith("-")}
    expect(listed == {"pdns-server", "pdns-backend-remote"},
           f"Dockerfile powerdns: installs pdns-server and pdns-backend-remote ({' '.join(sorted(listed))})")
    res = subprocess.run(["apt-cache", "show", "--no-all-versions", *sorted(listed)], capture_output=True, text=True)
    versions = {}
    for para in res.stdout.split("\n\n"):
        pkg, ver = re.search(r"^Package: (\S+)", para, re.M), re.search(r"^Version: (\S+)", para, re.M)
        if pkg and ver:
            versions[pkg.group(1)] = ver.group(1)
    expect(set(versions) == listed and all(v.startswith("4.7.") for v in versions.values()),
           f"Dockerfile powerdns: the packages are in the archive, PowerDNS 4.7 ({versions})")
    entry = json.loads(lines.get("ENTRYPOINT", ["[]"])[-1])
    copies = [c.split() for c in lines.get("COPY", [])]
    # PowerDNS 4.7 exits at start without the face's socket: the entrypoint
    # waits for it, then execs pdns_server (PID 1, for the preStop's quit).
    script = root / "examples/dns-face/pdns-after-face"
    text = script.read_text() if script.is_file() else ""
    expect(entry == ["/usr/local/bin/pdns-after-face"]
           and ["examples/dns-face/pdns-after-face", "/usr/local/bin/pdns-after-face"] in copies
           and script.is_file() and script.stat().st_mode & 0o111 == 0o111 and text.startswith("#!/bin/sh\n")
           and re.search(r'^exec "\$pdns_server" "\$@"$', text, re.M)
           and "pdns_server=/usr/sbin/pdns_server" in text,
           f"Dockerfile powerdns: ENTRYPOINT {entry} is examples/dns-face/pdns-after-face (executable, /bin/sh), "
           f"which waits for the face's socket and execs /usr/sbin/pdns_server with CMD {lines.get('CMD')}")
    expect(["examples/dns-face/pdns.conf", "/etc/powerdns/pdns.conf"] in copies,
           "Dockerfile powerdns: examples/dns-face/pdns.conf is its /etc/powerdns/pdns.conf")
    user = lines.get("USER", [""])[-1]
    expect(user == "65532:65532", f"Dockerfile powerdns: runs as uid and gid 65532, sipresolverd's (USER {user})")
    conf = dict(re.findall(r"^([a-z-]+)=(.*)$", (root / "examples/dns-face/pdns.conf").read_text(), re.M))
    exposed = {p for e in lines.get("EXPOSE", []) for p in e.split()}
    port = conf.get("local-port", "53")
    expect({f"{port}/udp", f"{port}/tcp"} <= exposed and int(port) >= 1024,
           f"Dockerfile powerdns: EXPOSE {sorted(exposed)} is pdns.conf's unprivileged local-port {port}, UDP and TCP")
    expect(not any(v for v in lines.get("VOLUME", [])), "Dockerfile powerdns: no VOLUME")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--help-file", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--binary", action="append", required=True)
    p.set_defaults(fn=cmd_dockerfile)
    ns = p.parse_args()
    ns.fn(ns)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
