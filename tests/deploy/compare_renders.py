#!/usr/bin/env python3
"""Compares two renders of the chart object by object (`helm template` and
helm-render): same kinds and names, same content. checksum/* annotations are
left out (they hash template text, whose whitespace may differ).

  compare_renders.py A.yaml B.yaml
"""
import pathlib
import sys

import yaml


def load(path):
    out = {}
    for d in yaml.safe_load_all(pathlib.Path(path).read_text()):
        if not d:
            continue
        ann = d.get("spec", {}).get("template", {}).get("metadata", {}).get("annotations", {})
        for k in [k for k in ann if k.startswith("checksum/")]:
            del ann[k]
        out[(d["kind"], d["metadata"]["name"])] = d
    return out


a, b = load(sys.argv[1]), load(sys.argv[2])
diff = sorted(set(a) ^ set(b))
changed = sorted(k for k in set(a) & set(b) if a[k] != b[k])
for k in diff:
    print(f"only in one render: {k}")
for k in changed:
    print(f"differs: {k}")
print(f"{len(a)} objects compared")
sys.exit(1 if diff or changed else 0)
