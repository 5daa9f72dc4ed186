#!/usr/bin/env python3
"""The chart's values.schema.json, as Helm applies it to the merged values.

  check_values_schema.py CHART_DIR [VALUES.yaml ...]

The chart's defaults, and the defaults with the given files merged over them
(as `helm template -f` merges), must be valid; values a user could get wrong
(a mistyped key, a number as text, a duration without a unit, an unknown
enum, a bad port range) must be refused, naming where."""
import copy
import json
import pathlib
import sys

import jsonschema
import yaml

from checklib import FAILURES, expect


def merge(base, over):
    """Helm's deep merge: maps merge, anything else replaces, null deletes."""
    out = copy.deepcopy(base)
    for key, value in (over or {}).items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


BAD = [
    ({"server": {"maxStream": 5}}, "maxStream"),                 # Mistyped key.
    ({"servr": {"maxStreams": 5}}, "servr"),                     # Mistyped group.
    ({"ports": {"grpc": "50051"}}, "ports.grpc"),                # Text, not a number.
    ({"ports": {"metrics": 70000}}, "ports.metrics"),            # Out of range.
    ({"server": {"dnsTimeout": "2 seconds"}}, "server.dnsTimeout"),
    ({"probe": {"method": "invite"}}, "probe.method"),
    ({"server": {"reflection": "no"}}, "server.reflection"),
    ({"networkPolicy": {"sipPorts": ["5060-"]}}, "networkPolicy.sipPorts.0"),
    ({"service": {"type": "Loadbalancer"}}, "service.type"),
    ({"etcd": {"endpoints": ["etcd.etcd.svc"]}}, "etcd.endpoints"),  # No port.
    ({"etcd": {"endpoints": "etcd-0:2379, etcd-1:2379"}}, "etcd.endpoints"),
    ({"etcd": {"prefix": "/sipresolver"}}, "etcd.prefix"),        # Must end with /.
    ({"etcd": {"tls": {"secret": "x"}}}, "secret"),
    ({"probe": {"owners": 0}}, "probe.owners"),
    ({"dnsFace": {"enable": True}}, "enable"),                     # Mistyped key.
    ({"dnsFace": {"powerdns": {"port": 53}}}, "dnsFace.powerdns.port"),  # Privileged: needs root.
    ({"dnsFace": {"config": {"zones": [{"zone": "sip.example", "ttlSeconds": 0, "names": []}]}}},
     "dnsFace.config.zones.0.ttlSeconds"),
    ({"dnsFace": {"config": {"zones": [{"zone": "sip.example", "names": [
        {"name": "a", "profile": {}, "publish": ["mx"]}]}]}}}, "dnsFace.config.zones.0.names.0.publish.0"),
]


def main():
    chart = pathlib.Path(sys.argv[1])
    schema = json.loads((chart / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    merged = defaults
    files = [path for path in sys.argv[2:] if path]  # "-f" stripped to "".
    for path in files:
        merged = merge(merged, yaml.safe_load(pathlib.Path(path).read_text()))
    for name, values in (("defaults", defaults), ("merged values", merged)):
        errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(values)]
        expect(not errors, f"values.schema.json: the {name} are valid" + (f"; not: {errors[:3]}" if errors else ""))
    refused = 0
    for override, where in BAD:
        errors = list(validator.iter_errors(merge(defaults, override)))
        named = any(where in ".".join(map(str, e.path)) or where in e.message for e in errors)
        expect(named, f"values.schema.json refuses {override}, naming {where}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
