#!/usr/bin/env python3
"""Checks of the monitoring artefacts.

  check_monitoring.py metric-names --binary B --source server FILE...
  check_monitoring.py dashboard DASHBOARD.json

metric-names: every sipresolver_* name the files use is a family registered
in server/*.cc and present in the binary. dashboard: layout, variables, and
every panel query valid PromQL (promtool)."""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

from checklib import expect, FAILURES


# --- metric names -------------------------------------------------------------------

def cmd_metric_names(ns):
    """Metric names in rules, dashboard, HPA are families sipresolverd
    registers: .Name("sipresolver_...") calls of server/*.cc that are also in
    the binary (a name only in newer sources is not usable yet)."""
    declared = set()
    for src in sorted(pathlib.Path(ns.source).glob("*.cc")):
        declared |= set(re.findall(r'\.Name\("(sipresolver_[a-z_]+)"\)', src.read_text()))
    data = b"".join(pathlib.Path(b).read_bytes() for b in ns.binary)
    missing_in_binary = sorted(n for n in declared if n.encode() not in data)
    expect(len(declared) >= 10, f"server/*.cc registers {len(declared)} sipresolver_* metric families")
    if missing_in_binary:  # a binary older than the sources: those names are not usable
        print(f"  note not in the binary (older than server/*.cc?): {missing_in_binary}")
    series = set()
    for name in declared - set(missing_in_binary):
        series |= {name, name + "_bucket", name + "_sum", name + "_count"}
    for f in ns.files:
        text = pathlib.Path(f).read_text()
        names = set(re.findall(r"(?<![:\w])sipresolver_[a-z_]+[a-z](?![:\w])", text))
        unknown = sorted(n for n in names if n not in series)
        expect(names and not unknown, f"{f}: all {len(names)} metric names it uses are registered in server/*.cc and in the binary"
               + (f" (unknown: {unknown})" if unknown else ""))


# --- Grafana dashboard ------------------------------------------------------------------

def cmd_dashboard(ns):
    """Layout sanity, and every panel query is valid PromQL: each becomes a
    recording rule of a temporary rule file that `promtool check rules` parses
    (Grafana variables replaced by what Grafana would substitute)."""
    dash = json.loads(pathlib.Path(ns.dashboard).read_text())
    panels = dash["panels"]
    ids = [p["id"] for p in panels]
    expect(len(ids) == len(set(ids)), f"{len(panels)} panels, unique ids")
    expect(all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels), "every panel fits the 24-column grid")
    targets = [t for p in panels for t in p.get("targets", [])]
    expect(all(t.get("datasource", {}).get("uid") == "${datasource}" for t in targets),
           f"{len(targets)} queries use the ${{datasource}} variable")
    names = {v["name"] for v in dash["templating"]["list"]}
    expect({"datasource", "namespace", "job"} <= names, f"variables: {sorted(names)}")
    rules = []
    for i, t in enumerate(targets):
        expr = (t["expr"].replace("$__rate_interval", "5m").replace("$namespace", ".*").replace("$job", ".*"))
        rules.append({"record": f"dashboard:query_{i}", "expr": expr})
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
    res = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    expect(res.returncode == 0, f"all {len(rules)} panel queries are valid PromQL (promtool)"
           + ("" if res.returncode == 0 else ": " + res.stdout + res.stderr))


# --- runbook links -------------------------------------------------------------------

def cmd_runbook(ns):
    """Every alert has a runbook_url to its own section of the runbook, and
    the runbook has a section for every alert and none for a missing one. In
    rendered PrometheusRules (--rendered BASE=FILE) the links start with BASE."""
    rules = yaml.safe_load(pathlib.Path(ns.rules).read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    sections = re.findall(r"^## (\w+)$", pathlib.Path(ns.runbook).read_text(), re.M)
    names = [a["alert"] for a in alerts]
    expect(sorted(sections) == sorted(names),
           f"{ns.runbook}: one section per alert ({len(names)})"
           + ("" if sorted(sections) == sorted(names) else
              f" (no section: {sorted(set(names) - set(sections))}; no alert: {sorted(set(sections) - set(names))})"))
    wrong = [a["alert"] for a in alerts
             if a.get("annotations", {}).get("runbook_url") != f"docs/runbook.md#{a['alert'].lower()}"]
    expect(not wrong, f"{ns.rules}: every alert's runbook_url is docs/runbook.md#<its name>"
           + (f" (not: {wrong})" if wrong else ""))
    for spec in ns.rendered:
        base, _, path = spec.partition("=")
        docs = [d for d in yaml.safe_load_all(pathlib.Path(path).read_text()) if d and d.get("kind") == "PrometheusRule"]
        urls = [r["annotations"]["runbook_url"] for d in docs for g in d["spec"]["groups"]
                for r in g["rules"] if "alert" in r]
        expect(len(urls) == len(alerts) and all(u.startswith(base + "#") for u in urls),
               f"{path}: {len(urls)} alerts link to {base}#...")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("metric-names")
    n.add_argument("--binary", action="append", required=True)
    n.add_argument("--source", required=True, help="directory of the server's sources (server/)")
    n.add_argument("files", nargs="+")
    n.set_defaults(fn=cmd_metric_names)
    g = sub.add_parser("dashboard")
    g.add_argument("dashboard")
    g.set_defaults(fn=cmd_dashboard)
    r = sub.add_parser("runbook")
    r.add_argument("--rendered", action="append", default=[], help="BASE=RENDERED.yaml")
    r.add_argument("rules")
    r.add_argument("runbook")
    r.set_defaults(fn=cmd_runbook)
    ns = p.parse_args()
    ns.fn(ns)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
