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
TLS files from a read-only volume and egress to etcd's ports. Exits 1 on any
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
                 "etcd_tls_ca_file", "etcd_tls_cert_file", "etcd_tls_key_file"):
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
    for name, vol in volumes.items():
        expect(name in mounts.values(), f"{where}: volume {name} is mounted")
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

    # Objects around the Deployment select its pods and name its ports.
    named_ports = set(ports)
    services = [d for d in docs if d["kind"] == "Service"]
    expect(len(services) >= 2 and any(s["spec"].get("clusterIP") == "None" for s in services),
           f"{where}: a headless Service and a normal Service")
    for s in services:
        sname = s["metadata"]["name"]
        expect(selects(s["spec"]["selector"], labels), f"Service {sname}: selector matches the pods")
        if s["spec"].get("type", "ClusterIP") != "ClusterIP":
            expect([p["name"] for p in s["spec"]["ports"]] == ["grpc"],
                   f"Service {sname} ({s['spec']['type']}): public, so it carries gRPC only")
        for p in s["spec"]["ports"]:
            expect(p.get("targetPort") in named_ports or p.get("targetPort") in ports.values(),
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--help-file", required=True)
    p.add_argument("--default-ports", action="store_true")
    p.add_argument("--external-secret", action="append", default=[])
    p.add_argument("--custom-metrics", action="store_true",
                   help="the HPA opted in to a custom (Pods) metric")
    p.add_argument("--etcd", action="store_true",
                   help="opted in to sharing probing through etcd (--etcd_endpoints)")
    p.add_argument("rendered")
    p.set_defaults(fn=cmd_deployment)
    ns = p.parse_args()
    ns.fn(ns)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
