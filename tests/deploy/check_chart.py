#!/usr/bin/env python3
"""Checks of the Helm chart's sources, without helm.

  check_chart.py --help-file H --version V CHART_DIR

Chart.yaml (appVersion is V, what `sipresolverd --version` says); every .Values path a template uses exists in values.yaml;
`server` and `probe` keys name real flags (camelCase of the flag); ports are
the flags' defaults; literal flags in _helpers.tpl are real; the grace period
covers drain and grace; each template's static YAML parses with the template
actions taken out; README.md lists every value."""
import argparse
import pathlib
import re
import sys

import yaml

from checklib import check_flags, expect, fail, FAILURES, ok, parse_args, parse_help, port_of, seconds


# --- Helm chart ---------------------------------------------------------------------

def snakecase(key):
    """sprig's snakecase for lowerCamelCase keys: maxStreams -> max_streams."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def leaf_paths(node, prefix=""):
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from leaf_paths(v, f"{prefix}.{k}" if prefix else k)
    else:
        yield prefix


def cmd_chart(ns):
    flags = parse_help(ns.help_file)
    chart = pathlib.Path(ns.chart)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    expect(meta.get("apiVersion") == "v2" and meta.get("name") == "sipresolver" and meta.get("version"),
           "Chart.yaml: apiVersion v2, name sipresolver, a version")
    expect(str(meta.get("appVersion")) == ns.version,
           f"Chart.yaml: appVersion {meta.get('appVersion')} is sipresolverd's version ({ns.version})")
    values = yaml.safe_load((chart / "values.yaml").read_text())
    ok("values.yaml parses")

    # Every .Values path a template uses exists in values.yaml.
    used = set()
    for t in sorted((chart / "templates").iterdir()):
        used |= set(re.findall(r"\.Values((?:\.[A-Za-z0-9_]+)+)", t.read_text()))
    missing = []
    for path in sorted(used):
        node = values
        for part in path.strip(".").split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                missing.append(path)
                break
    expect(not missing, f"templates: all {len(used)} .Values paths exist in values.yaml"
           + (f" (missing: {missing})" if missing else ""))

    # `server` and `probe` keys name real flags; ports are the flags' defaults.
    mapped = {k: snakecase(k) for k in values["server"]}
    mapped.update({f"probe.{k}": "probe_" + snakecase(k) for k in values["probe"]})
    unknown = {k: f for k, f in mapped.items() if f not in flags}
    expect(not unknown, f"values.yaml: {len(mapped)} server/probe keys all name flags of sipresolverd"
           + (f" (no such flag: {unknown})" if unknown else ""))
    expect(values["ports"]["grpc"] == port_of(flags["listen"]) and values["ports"]["metrics"] == port_of(flags["metrics_listen"]),
           "values.yaml: ports.grpc and ports.metrics are the flags' default ports")
    literal = set(re.findall(r"--([a-z0-9_]+)=", (chart / "templates/_helpers.tpl").read_text()))
    expect(literal <= set(flags), f"templates: literal flags {sorted(literal)} are all in `sipresolverd --help`"
           + (f" (unknown: {sorted(literal - set(flags))})" if literal - set(flags) else ""))
    extra = [a for a in values.get("extraArgs", [])]
    check_flags("values.yaml extraArgs", extra, flags) if extra else ok("values.yaml: extraArgs empty")
    grace = seconds(str(values["server"]["shutdownDrainDelay"])) + seconds(str(values["server"]["shutdownGrace"]))
    expect(values["terminationGracePeriodSeconds"] > grace,
           f"values.yaml: terminationGracePeriodSeconds {values['terminationGracePeriodSeconds']} > drain + grace ({grace:g}s)")

    # Static YAML of each template: template actions replaced, then parsed.
    for t in sorted((chart / "templates").glob("*.yaml")):
        text = t.read_text()
        text = re.sub(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", "", text, flags=re.S)
        lines = []
        for line in text.splitlines():
            stripped = line.strip()
            if re.fullmatch(r"\{\{-?.*?-?\}\}", stripped) and ("nindent" not in stripped or stripped.startswith("{{-")):
                continue  # control line (if/range/with/end/define) or an indented include
            lines.append(re.sub(r"\{\{.*?\}\}", "X", line))
        try:
            for _ in yaml.safe_load_all("\n".join(lines)):
                pass
            ok(f"templates/{t.name}: static YAML parses")
        except yaml.YAMLError as e:
            fail(f"templates/{t.name}: static YAML: {e}")

    # README documents every value.
    readme = (chart / "README.md").read_text()
    undocumented = [p for p in leaf_paths(values) if f"`{p}`" not in readme]
    expect(not undocumented, f"README.md: values table lists all {len(list(leaf_paths(values)))} values"
           + (f" (missing: {undocumented})" if undocumented else ""))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--help-file", required=True)
    p.add_argument("--version", required=True, help="the version `sipresolverd --version` prints")
    p.add_argument("chart")
    p.set_defaults(fn=cmd_chart)
    ns = p.parse_args()
    ns.fn(ns)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
