#!/usr/bin/env python3
"""Keeps the copies of the Prometheus rules, the Grafana dashboard and the DNS
face's example configuration in step.

The sources are deploy/prometheus/sipresolver-rules.yml and
deploy/dashboards/sipresolver.json. Their copies:
  deploy/base/prometheusrule.yaml                   PrometheusRule with the same groups
  deploy/base/dashboard-configmap.yaml              ConfigMap holding the dashboard
  helm/sipresolver/files/sipresolver-rules.yml byte-identical copy
  helm/sipresolver/files/sipresolver.json      byte-identical copy
The DNS face's examples/dns-face/pdns.conf and dns-face.json: byte-identical
copies in deploy/components/dns-face/ (and pdns.conf in helm/sipresolver/files/).
(Helm reads only files inside the chart, kustomize only below the kustomization; kustomize cannot wrap a file into a
custom resource, and a generator's own labels need kustomize v3+, while the
generated ConfigMap renders with any kubectl, Debian 12's 1.20 included.)

  sync.py ROOT            check: exit 1 naming every copy that differs
  sync.py ROOT --write    regenerate the copies
"""
import pathlib
import sys

import yaml

HEADER = """\
# Generated from deploy/prometheus/sipresolver-rules.yml by tests/deploy/sync.py
# --write: edit that file, not this one (scripts/check-deploy compares them).
"""


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (PromQL, descriptions) as literal blocks."""


def _str(dumper, text):
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def rule_resource(groups):
    doc = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "sipresolver",
            "labels": {
                "app.kubernetes.io/name": "sipresolver",
                "app.kubernetes.io/instance": "sipresolver",
                "app.kubernetes.io/component": "server",
                "app.kubernetes.io/part-of": "sipresolver",
            },
        },
        "spec": {"groups": groups},
    }
    return HEADER + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100)


def dashboard_configmap(dashboard_json):
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "sipresolver-dashboard",
            "labels": {
                "grafana_dashboard": "1",  # found by the Grafana sidecar
                "app.kubernetes.io/name": "sipresolver",
                "app.kubernetes.io/part-of": "sipresolver",
            },
        },
        "data": {"sipresolver.json": dashboard_json},
    }
    header = HEADER.replace("deploy/prometheus/sipresolver-rules.yml", "deploy/dashboards/sipresolver.json")
    return header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100)


def main():
    root = pathlib.Path(sys.argv[1])
    write = "--write" in sys.argv[2:]
    rules_src = root / "deploy/prometheus/sipresolver-rules.yml"
    dash_src = root / "deploy/dashboards/sipresolver.json"
    groups = yaml.safe_load(rules_src.read_text())["groups"]
    wanted = {
        root / "deploy/base/prometheusrule.yaml": rule_resource(groups),
        root / "deploy/base/dashboard-configmap.yaml": dashboard_configmap(dash_src.read_text()),
        root / "helm/sipresolver/files/sipresolver-rules.yml": rules_src.read_text(),
        root / "helm/sipresolver/files/sipresolver.json": dash_src.read_text(),
    }
    face = root / "examples/dns-face"
    for name in ("pdns.conf", "dns-face.json"):
        wanted[root / "deploy/components/dns-face" / name] = (face / name).read_text()
    wanted[root / "helm/sipresolver/files/pdns.conf"] = (face / "pdns.conf").read_text()
    stale = []
    for path, text in wanted.items():
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        elif not path.exists() or path.read_text() != text:
            stale.append(str(path.relative_to(root)))
    # The PrometheusRule must also mean the same as the rules file.
    if not write and not stale:
        spec = yaml.safe_load((root / "deploy/base/prometheusrule.yaml").read_text())["spec"]
        if spec["groups"] != groups:
            stale.append("deploy/base/prometheusrule.yaml (groups)")
    for s in stale:
        print(f"out of date: {s} (run tests/deploy/sync.py . --write)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
