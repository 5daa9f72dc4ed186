#!/usr/bin/env python3
"""Static checks of a rendered Deployment and the objects around it, against
the real sipresolverd's flags.

  check_manifests.py --help-file H RENDERED.yaml [--default-ports] [--external-secret NAME]...
                     [--custom-metrics] [--etcd]

H is the output of `sipresolverd --help`. Every container argument is
--flag=value with a real flag; ports, probes and prometheus.io annotations
match --listen/--metrics_listen/--health_listen; probes are gRPC on a
plaintext port with served service names; the grace period covers drain and
grace; security context; flag files on mounted volumes; the PrometheusRule and
dashboard carry the sources; Services, PDB, HPA, NetworkPolicy and
ServiceMonitor select the pods and name real ports; listens are on [::]; the
HPA has a custom (Pods) metric only with --custom-metrics; etcd flags only
with --etcd, then with HOST:PORT endpoints, no --replica_id (the pod name),
TLS files from a read-only volume and egress to etcd's ports; the DNS face's
flags and its PowerDNS container only with --dns-face, then the socket of
--dns_face_socket is the one pdns.conf's remote-connection-string names, on
one emptyDir both containers mount, PowerDNS runs the image's ENTRYPOINT
(no command: it waits for the socket), pdns.conf keeps answers fresh, PowerDNS
runs as the pod's non-root user on a read-only root without capabilities,
and the DNS Service and NetworkPolicy reach its port. Exits 1 on any
failure."""
import argparse
import copy
import json
import pathlib
import re
import sys

import yaml

from checklib import check_flags, expect, FAILURES, parse_args, parse_help, port_of, seconds


# --- rendered Kubernetes objects --------------------------------------------------

def load_docs(path):
    return [d for d in yaml.safe_load_all(pathlib.Path(path).read_text()) if d]


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def cmd_deployment(ns):
    flags = parse_help(ns.help_file)
    docs = load_docs(ns.rendered)
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    if not expect(len(deployments) == 1, f"{ns.rendered}: exactly one Deployment"):
        return
    dep = deployments[0]
    pod = dep["spec"]["template"]
    spec = pod["spec"]
    labels = pod["metadata"].get("labels", {})
    annotations = pod["metadata"].get("annotations", {})
    c = spec["containers"][0]
    where = f"Deployment {dep['metadata']['name']}"
    args = c.get("args", [])
    check_flags(where, args, flags)

    values = {}
    for name, value in parse_args(args):
        if name:
            values[name] = value  # the last one wins, as with Abseil flags
    # $(VAR) references resolve to env entries of the container.
    env = {e["name"] for e in c.get("env", [])}
    refs = set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", " ".join(args)))
    expect(refs <= env, f"{where}: $(VAR) in arguments are defined in env ({sorted(refs)})")
    configmaps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    env_values = {}
    for e in c.get("env", []):
        env_values[e["name"]] = e.get("value", "")
        ref = e.get("valueFrom", {}).get("configMapKeyRef")
        if ref:
            cm = configmaps.get(ref["name"])
            expect(cm is not None and ref["key"] in cm.get("data", {}),
                   f"{where}: env {e['name']} comes from ConfigMap {ref['name']} key {ref['key']}, which is rendered")
            env_values[e["name"]] = (cm or {}).get("data", {}).get(ref["key"], "")

    def resolved(value):  # $(VAR) as the kubelet expands it
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env_values.get(m.group(1), m.group(0)), value)

    def flag(name):
        return values.get(name, flags[name])

    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    grpc_port = port_of(flag("listen"))
    metrics_port = port_of(flag("metrics_listen"))
    health = flag("health_listen") if "health_listen" in flags else ""
    health_port = port_of(health) if health else None
    if ns.default_ports:
        expect(grpc_port == port_of(flags["listen"]) and metrics_port == port_of(flags["metrics_listen"]),
               f"{where}: gRPC port {grpc_port} and metrics port {metrics_port} are the flags' defaults "
               f"({flags['listen']}, {flags['metrics_listen']})")
    # A pod's address may be IPv6 only: every listen is on every address.
    for name in ("listen", "metrics_listen") + (("health_listen",) if health else ()):
        expect(flag(name).startswith("[::]:"),
               f"{where}: --{name}={flag(name)} listens on [::] (IPv4 and IPv6), so IPv6-only clusters reach it")
    expect(ports.get("grpc") == grpc_port, f"{where}: container port 'grpc' ({ports.get('grpc')}) is --listen's port ({grpc_port})")
    expect(ports.get("metrics") == metrics_port,
           f"{where}: container port 'metrics' ({ports.get('metrics')}) is --metrics_listen's port ({metrics_port})")
    if health_port:
        expect(ports.get("health") == health_port,
               f"{where}: container port 'health' ({ports.get('health')}) is --health_listen's port ({health_port})")
    if annotations.get("prometheus.io/scrape") == "true":
        expect(annotations.get("prometheus.io/port") == str(metrics_port) and
               annotations.get("prometheus.io/path") == "/metrics",
               f"{where}: prometheus.io annotations point at {metrics_port}/metrics")

    # Probes: native gRPC on a plaintext port that serves the health service.
    tls = bool(values.get("tls_cert_file"))
    plaintext_health_port = health_port if tls else grpc_port
    for kind, service in (("livenessProbe", ""), ("readinessProbe", "sipresolver.v1.SipResolver")):
        probe = c.get(kind, {})
        g = probe.get("grpc")
        expect(g is not None and g.get("port") == plaintext_health_port and g.get("service", "") == service,
               f"{where}: {kind} is gRPC on plaintext port {plaintext_health_port}, service \"{service}\""
               + (" (TLS on --listen: the health-only port)" if tls else ""))
    drain = seconds(flag("shutdown_drain_delay")) if "shutdown_drain_delay" in flags else 0
    grace = seconds(flag("shutdown_grace"))
    tgp = spec.get("terminationGracePeriodSeconds", 30)
    expect(tgp > drain + grace,
           f"{where}: terminationGracePeriodSeconds {tgp} > shutdown_drain_delay {drain:g}s + shutdown_grace {grace:g}s")
    ready = c.get("readinessProbe", {})
    noticed = ready.get("periodSeconds", 10) * ready.get("failureThreshold", 3)
    expect(noticed <= drain,
           f"{where}: readiness notices NOT_SERVING within the drain delay ({noticed}s <= {drain:g}s)")
    live = c.get("livenessProbe", {})
    expect(live.get("periodSeconds", 10) * live.get("failureThreshold", 3) > drain,
           f"{where}: liveness gives up after longer than the drain delay ({drain:g}s)")

    # Security context: non-root, read-only root, no capabilities.
    psc, sc = spec.get("securityContext", {}), c.get("securityContext", {})
    expect(psc.get("runAsNonRoot") is True or sc.get("runAsNonRoot") is True, f"{where}: runAsNonRoot")
    expect(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem")
    expect(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation false")
    expect(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: capabilities drop ALL")
    expect(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: seccomp RuntimeDefault")
    expect(psc.get("runAsUser", sc.get("runAsUser")) == 65532, f"{where}: runs as uid 65532 (the image's user)")
    expect(bool(c.get("resources", {}).get("requests")) and bool(c.get("resources", {}).get("limits")),
           f"{where}: resource requests and limits")
    expect(len(spec.get("topologySpreadConstraints", [])) >= 1, f"{where}: topologySpreadConstraints")

    # Files named by flags live on mounted volumes; volumes exist.
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in spec.get("volumes", []) or []}
    read_only = {m["mountPath"] for m in c.get("volumeMounts", []) if m.get("readOnly")}
    for name in ("probe_credentials_file", "probe_tls_ca_file", "tls_cert_file", "tls_key_file", "tls_client_ca_file",
                 "etcd_tls_ca_file", "etcd_tls_cert_file", "etcd_tls_key_file", "dns_face_config"):
        path = values.get(name)
        if not path:
            continue
        mount = next((m for m in mounts if path.startswith(m.rstrip("/") + "/")), None)
        expect(mount is not None and mounts[mount] in volumes and mount in read_only,
               f"{where}: --{name}={path} is on a read-only mounted volume ({mount})")

    # Many replicas sharing probing through etcd: only where opted in.
    etcd_endpoints = resolved(values.get("etcd_endpoints", ""))
    etcd_ports = {port_of(e.strip()) for e in etcd_endpoints.split(",")} if etcd_endpoints else set()
    if ns.etcd:
        expect(bool(etcd_endpoints) and None not in etcd_ports,
               f"{where}: --etcd_endpoints={etcd_endpoints} (opted in), HOST:PORT items")
        expect("replica_id" not in values,
               f"{where}: no --replica_id: each replica is its host name, the pod name (unique among live pods)")
        etcd_tls = [n for n in ("etcd_tls_cert_file", "etcd_tls_key_file") if values.get(n)]
        expect(len(etcd_tls) in (0, 2), f"{where}: --etcd_tls_cert_file and --etcd_tls_key_file together")
    else:
        etcd_flags = sorted(n for n in values if n.startswith("etcd_") and values[n])
        expect(not etcd_flags, f"{where}: no etcd flags by default (each replica alone)"
               + (f", not {etcd_flags}" if etcd_flags else ""))
    all_mounted = {m["name"] for k in spec["containers"] for m in k.get("volumeMounts", [])}
    for name, vol in volumes.items():
        expect(name in all_mounted, f"{where}: volume {name} is mounted")
        secret = vol.get("secret", {}).get("secretName")
        if secret and secret not in ns.external_secret:
            expect(any(d["kind"] == "Secret" and d["metadata"]["name"] == secret for d in docs),
                   f"{where}: Secret {secret} of volume {name} is rendered")

    # The PrometheusRule and the dashboard ConfigMap carry the sources.
    root = pathlib.Path(__file__).resolve().parents[2]
    rules = yaml.safe_load((root / "deploy/prometheus/sipresolver-rules.yml").read_text())["groups"]
    dashboard = json.loads((root / "deploy/dashboards/sipresolver.json").read_text())
    def without_runbook(groups):  # The chart may point runbook_url elsewhere.
        groups = copy.deepcopy(groups)
        for g in groups:
            for r in g["rules"]:
                r.get("annotations", {}).pop("runbook_url", None)
        return groups

    for d in docs:
        if d["kind"] == "PrometheusRule":
            expect(without_runbook(d["spec"]["groups"]) == without_runbook(rules),
                   f"PrometheusRule {d['metadata']['name']}: the groups of deploy/prometheus/sipresolver-rules.yml"
                   " (runbook_url apart: check_monitoring.py runbook checks it)")
        if d["kind"] == "ConfigMap" and "sipresolver.json" in d.get("data", {}):
            expect(json.loads(d["data"]["sipresolver.json"]) == dashboard
                   and d["metadata"].get("labels", {}).get("grafana_dashboard") == "1",
                   f"ConfigMap {d['metadata']['name']}: deploy/dashboards/sipresolver.json, "
                   f"labelled grafana_dashboard=1 for the Grafana sidecar")

    dns_ports = check_dns_face(ns, where, docs, spec, c, values, configmaps, volumes, drain)

    # Objects around the Deployment select its pods and name its ports.
    pod_ports = {p.get("name"): p["containerPort"] for k in spec["containers"] for p in k.get("ports", [])}
    named_ports = set(pod_ports)
    services = [d for d in docs if d["kind"] == "Service"]
    expect(len(services) >= 2 and any(s["spec"].get("clusterIP") == "None" for s in services),
           f"{where}: a headless Service and a normal Service")
    for s in services:
        sname = s["metadata"]["name"]
        expect(selects(s["spec"]["selector"], labels), f"Service {sname}: selector matches the pods")
        if s["spec"].get("type", "ClusterIP") != "ClusterIP":
            names = [p["name"] for p in s["spec"]["ports"]]
            expect(names == ["grpc"] or (dns_ports and names == ["dns-udp", "dns-tcp"]),
                   f"Service {sname} ({s['spec']['type']}): public, so it carries gRPC only, or DNS only ({names})")
        for p in s["spec"]["ports"]:
            expect(p.get("targetPort") in named_ports or p.get("targetPort") in pod_ports.values(),
                   f"Service {sname}: port {p['name']} targets container port {p.get('targetPort')}")
    expect(sum(p["name"] == "metrics" for s in services for p in s["spec"]["ports"]) == 1,
           f"{where}: one Service carries port metrics (scraped once)")
    for d in docs:
        kind, name = d["kind"], d["metadata"]["name"]
        if kind == "PodDisruptionBudget":
            expect(selects(d["spec"]["selector"]["matchLabels"], labels), f"{kind} {name}: selects the pods")
        elif kind == "NetworkPolicy":
            expect(selects(d["spec"]["podSelector"]["matchLabels"], labels), f"{kind} {name}: selects the pods")
            ingress_ports = {p["port"] for r in d["spec"].get("ingress", []) for p in r.get("ports", [])}
            expect({grpc_port, metrics_port} <= ingress_ports,
                   f"{kind} {name}: admits the gRPC ({grpc_port}) and metrics ({metrics_port}) ports")
            if dns_ports:
                admitted = {(p["port"], p.get("protocol", "TCP")) for r in d["spec"].get("ingress", [])
                            for p in r.get("ports", [])}
                expect(dns_ports <= admitted,
                       f"{kind} {name}: admits DNS to PowerDNS's port {sorted(dns_ports)}")
            egress_ports = {p["port"] for r in d["spec"].get("egress", []) for p in r.get("ports", [])}
            expect({53, 5060, 5061} <= egress_ports, f"{kind} {name}: lets out DNS (53) and SIP (5060, 5061)")
            if etcd_ports and None not in etcd_ports:
                tcp_out = {p["port"] for r in d["spec"].get("egress", []) for p in r.get("ports", [])
                           if p.get("protocol", "TCP") == "TCP"}
                expect(etcd_ports <= tcp_out,
                       f"{kind} {name}: lets out TCP to etcd's ports {sorted(etcd_ports)} (--etcd_endpoints)")
        elif kind == "HorizontalPodAutoscaler":
            ref = d["spec"]["scaleTargetRef"]
            expect(ref["kind"] == "Deployment" and ref["name"] == dep["metadata"]["name"],
                   f"{kind} {name}: scales Deployment {ref['name']}")
            expect("replicas" not in dep["spec"], f"{kind} {name}: the Deployment leaves replicas to it")
            custom = sorted(m["type"] for m in d["spec"].get("metrics", []) if m["type"] != "Resource")
            if ns.custom_metrics:
                expect(custom == ["Pods"], f"{kind} {name}: a Pods metric (opted in; needs a custom metrics adapter)")
            else:
                expect(not custom, f"{kind} {name}: Resource metrics only by default (an unavailable custom "
                       f"metric would stop scale-down){f', not {custom}' if custom else ''}")
        elif kind == "ServiceMonitor":
            sel = d["spec"]["selector"].get("matchLabels", {})
            matched = [s for s in services if selects(sel, s["metadata"].get("labels", {}))]
            with_port = [s for s in matched for ep in d["spec"]["endpoints"]
                         if any(p["name"] == ep["port"] for p in s["spec"]["ports"])]
            expect(len(with_port) == 1, f"{kind} {name}: scrapes exactly one Service's 'metrics' port "
                                        f"({[s['metadata']['name'] for s in with_port]})")


def pdns_settings(text):
    """pdns.conf as {setting: value}; a setting given again replaces the earlier one, as in PowerDNS."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def check_dns_face(ns, where, docs, spec, c, values, configmaps, volumes, drain):
    """The DNS face (docs/dns-face.md): only where opted in; then PowerDNS
    beside sipresolverd on the same socket. Returns PowerDNS's (port,
    protocol) pairs, empty without the face."""
    face_flags = sorted(n for n in values if n.startswith("dns_face_"))
    sidecars = [k for k in spec["containers"][1:] if k["name"] == "powerdns"]
    if not ns.dns_face:
        expect(not face_flags and not sidecars and len(spec["containers"]) == 1,
               f"{where}: no DNS face by default: no --dns_face_* flags, one container"
               + (f" (flags {face_flags}, containers {[k['name'] for k in spec['containers']]})"
                  if face_flags or len(spec["containers"]) != 1 else ""))
        return set()
    socket, config = values.get("dns_face_socket", ""), values.get("dns_face_config", "")
    expect(bool(socket) and bool(config), f"{where}: --dns_face_socket={socket} and --dns_face_config={config} (both)")
    if not expect(len(sidecars) == 1 and len(spec["containers"]) == 2,
                  f"{where}: the powerdns container beside sipresolverd ({[k['name'] for k in spec['containers']]})"):
        return set()
    pdns = sidecars[0]

    def mount_of(container, path):  # (volume mount, path below it) holding path
        for m in container.get("volumeMounts", []):
            if path.startswith(m["mountPath"].rstrip("/") + "/"):
                return m, path[len(m["mountPath"].rstrip("/")) + 1:]
        return None, None

    def configmap_file(container, path):  # a file's content from a ConfigMap volume
        m, rel = mount_of(container, path)
        cm = (volumes.get(m["name"], {}) if m else {}).get("configMap")
        if not cm:
            return None
        key = next((i["key"] for i in cm.get("items", []) if i["path"] == rel), None if cm.get("items") else rel)
        return configmaps.get(cm["name"], {}).get("data", {}).get(key)

    # The face's config: a ConfigMap file with zones.
    face = configmap_file(c, config)
    try:
        zones = json.loads(face or "null")["zones"]
    except (TypeError, KeyError, ValueError):
        zones = None
    expect(bool(zones), f"{where}: --dns_face_config's file is in a rendered ConfigMap, JSON with zones "
           f"({[z.get('zone') for z in zones or []]})")

    # The image's ENTRYPOINT (pdns-after-face) waits for the face's socket:
    # PowerDNS 4.7 exits at start without it, and the kubelet starts both
    # containers at once. A `command` would replace it.
    expect("command" not in pdns and all(a.startswith("--") for a in pdns.get("args", [])),
           f"{where}: powerdns runs the image's ENTRYPOINT (no command: it waits for the face's socket, "
           f"then execs pdns_server) with --flags as args {pdns.get('args')}")
    # pdns.conf: where PowerDNS reads it (--config-dir, default /etc/powerdns).
    cfg_dir = next((a.split("=", 1)[1] for a in pdns.get("args", []) + pdns.get("command", [])
                    if a.startswith("--config-dir=")), "/etc/powerdns")
    conf_text = configmap_file(pdns, cfg_dir.rstrip("/") + "/pdns.conf")
    if not expect(conf_text is not None, f"{where}: powerdns reads pdns.conf from a rendered ConfigMap at {cfg_dir}"):
        return set()
    conf = pdns_settings(conf_text)
    m = re.fullmatch(r"unix:path=([^,]+)(,.*)?", conf.get("remote-connection-string", ""))
    expect(conf.get("launch") == "remote" and m is not None and m.group(1) == socket,
           f"{where}: pdns.conf launch=remote, remote-connection-string's path {m.group(1) if m else None} "
           f"is --dns_face_socket ({socket})")
    timeout = re.search(r",timeout=(\d+)", conf.get("remote-connection-string", ""))
    expect(timeout is not None and int(timeout.group(1)) <= 5000,
           f"{where}: pdns.conf remote backend timeout {timeout.group(1) if timeout else None} ms (set, <= 5000)")
    fresh = {"query-cache-ttl": "0", "cache-ttl": "1", "negquery-cache-ttl": "1"}
    expect(all(conf.get(k) == v for k, v in fresh.items()),
           f"{where}: pdns.conf keeps answers fresh ({', '.join(f'{k}={conf.get(k)}' for k in fresh)})")
    expect(conf.get("daemon") == "no" and conf.get("guardian") == "no" and conf.get("disable-syslog") == "yes"
           and conf.get("webserver", "no") == "no",
           f"{where}: pdns.conf runs in the foreground, logs to stderr, no web server")

    # One volume, an emptyDir, holds the socket in both containers.
    sock_dir = socket.rsplit("/", 1)[0]
    m0, _ = mount_of(c, socket)
    m1, _ = mount_of(pdns, socket)
    expect(m0 is not None and m1 is not None and m0["name"] == m1["name"]
           and "emptyDir" in volumes.get(m0["name"], {}) and not m0.get("readOnly"),
           f"{where}: the socket's directory {sock_dir} is one emptyDir mounted in both containers "
           f"({m0 and m0['name']}, {m1 and m1['name']}), writable by sipresolverd")
    sd = conf.get("socket-dir", "/var/run/pdns")
    msd, _ = mount_of(pdns, sd + "/x")
    expect(msd is not None and not msd.get("readOnly"), f"{where}: pdns.conf socket-dir {sd} is a writable volume")

    # PowerDNS as the pod's non-root user (the socket is 0660), locked down.
    psc, sc = spec.get("securityContext", {}), pdns.get("securityContext", {})
    for key in ("runAsUser", "runAsGroup"):
        mine, theirs = sc.get(key, psc.get(key)), c.get("securityContext", {}).get(key, psc.get(key))
        expect(mine is not None and mine == theirs and mine != 0,
               f"{where}: powerdns {key} {mine} is sipresolverd's ({theirs}): the socket is mode 0660")
    expect(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
           and sc.get("capabilities", {}).get("drop") == ["ALL"] and not sc.get("capabilities", {}).get("add"),
           f"{where}: powerdns read-only root, no privilege escalation, no capabilities")
    expect(bool(pdns.get("resources", {}).get("requests")) and bool(pdns.get("resources", {}).get("limits")),
           f"{where}: powerdns resource requests and limits")
    port = int(conf.get("local-port", "53"))
    pports = {(p["containerPort"], p.get("protocol", "TCP")) for p in pdns.get("ports", [])}
    want = {(port, "UDP"), (port, "TCP")}
    expect(want <= pports and port >= 1024,
           f"{where}: powerdns container ports {sorted(pports)} are pdns.conf's local-port {port}, UDP and TCP, "
           f"unprivileged (no NET_BIND_SERVICE)")
    expect("readinessProbe" in pdns and "livenessProbe" in pdns, f"{where}: powerdns has readiness and liveness probes")
    sleep = pdns.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    # sh -c "sleep N; exec pdns_control quit": pdns_server is the container's
    # PID 1 without a SIGTERM handler, so SIGTERM alone would not stop it.
    m = re.fullmatch(r"sleep (\d+(?:\.\d+)?); exec pdns_control quit", sleep[2]) \
        if len(sleep) == 3 and sleep[:2] == ["sh", "-c"] else None
    slept = float(m.group(1)) if m else None
    expect(slept is not None and slept <= drain,
           f"{where}: powerdns answers on through a preStop sleep ({slept}s) within the drain delay ({drain:g}s), "
           f"then pdns_control quit (as PID 1 it ignores SIGTERM): {sleep}")

    # A Service carries DNS to it.
    dns_services = [s for s in docs if s["kind"] == "Service"
                    and {(p.get("targetPort"), p.get("protocol", "TCP")) for p in s["spec"]["ports"]}
                    >= {("dns-udp", "UDP"), ("dns-tcp", "TCP")}]
    names = {p.get("name"): p["containerPort"] for p in pdns.get("ports", [])}
    expect(len(dns_services) == 1 and names.get("dns-udp") == port and names.get("dns-tcp") == port,
           f"{where}: one Service carries DNS (UDP and TCP) to powerdns's ports "
           f"({[s['metadata']['name'] for s in dns_services]})")
    return want


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--help-file", required=True)
    p.add_argument("--default-ports", action="store_true")
    p.add_argument("--external-secret", action="append", default=[])
    p.add_argument("--custom-metrics", action="store_true",
                   help="the HPA opted in to a custom (Pods) metric")
    p.add_argument("--etcd", action="store_true",
                   help="opted in to sharing probing through etcd (--etcd_endpoints)")
    p.add_argument("--dns-face", action="store_true",
                   help="opted in to the DNS face (--dns_face_socket, the powerdns container)")
    p.add_argument("rendered")
    p.set_defaults(fn=cmd_deployment)
    ns = p.parse_args()
    ns.fn(ns)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
