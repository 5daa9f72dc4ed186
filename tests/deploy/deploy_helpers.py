#!/usr/bin/env python3
"""Small steps of scripts/check-deploy that are easier in Python than in bash.

  deploy_helpers.py values-tls PKI_DIR          chart values with the test PKI's PEMs (YAML)
  deploy_helpers.py prometheus-config ROOT      scrape-config.yml's job with static targets
                                                in place of pod discovery, and the rules (YAML)
  deploy_helpers.py image-config < INSPECT      the OCI config out of `buildah inspect` (JSON)
  deploy_helpers.py describe-image CONFIG       User, Entrypoint, Cmd, ExposedPorts, StopSignal
  deploy_helpers.py without-user CONFIG OUT     the config without USER (the self-test's root image)
  deploy_helpers.py etcd-secret PKI_DIR OUT     a Secret directory (ca.crt, tls.crt, tls.key) for etcd TLS
  deploy_helpers.py etcd-metrics                run_pod.py --then: the pod with --etcd_endpoints and no
                                                etcd reports sipresolver_etcd_session_active 0
"""
import json
import os
import pathlib
import re
import shutil
import sys
import time
import urllib.request

import yaml


def values_tls(pki):
    p = pathlib.Path(pki)
    print(yaml.safe_dump({
        "tls": {"cert": (p / "server-secret/tls.crt").read_text(),
                "key": (p / "server-secret/tls.key").read_text(),
                "clientCa": {"pem": (p / "client-ca-secret/ca.crt").read_text()}},
        "probeTlsCa": (p / "client/ca.crt").read_text()}))


def prometheus_config(root):
    # Debian 12's Prometheus is built without Kubernetes service discovery (it
    # rejects kubernetes_sd_configs): static targets take its place, so that
    # relabelling, intervals and the rule file are what promtool checks.
    root = pathlib.Path(root)
    cfg = yaml.safe_load((root / "deploy/prometheus/scrape-config.yml").read_text())
    for job in cfg["scrape_configs"]:
        if job.pop("kubernetes_sd_configs") != [{"role": "pod"}]:
            sys.exit("deploy_helpers.py: pod discovery expected in every job")
        job["static_configs"] = [{"targets": []}]
    cfg["rule_files"] = [str(root / "deploy/prometheus/sipresolver-rules.yml")]
    print(yaml.safe_dump(cfg, sort_keys=False))


def image_config():
    json.dump(json.load(sys.stdin)["OCIv1"]["config"], sys.stdout)


def describe_image(path):
    c = json.loads(pathlib.Path(path).read_text())
    print(" ".join(f"{k}={c.get(k)}" for k in ("User", "Entrypoint", "Cmd", "ExposedPorts", "StopSignal")))


def without_user(path, out):
    c = json.loads(pathlib.Path(path).read_text())
    c.pop("User", None)
    pathlib.Path(out).write_text(json.dumps(c))


def etcd_secret(pki, out):
    # The test PKI's agent CA and certificate stand in for etcd's: the pod
    # only has to read them (no etcd answers).
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for src, dst in (("client/ca.crt", "ca.crt"), ("client/client.crt", "tls.crt"), ("client/client.key", "tls.key")):
        shutil.copyfile(pathlib.Path(pki) / src, out / dst)


def etcd_metrics():
    url = json.loads(os.environ["SIPRESOLVER_POD_JSON"])["metrics_url"]
    # sipresolver_fleet_replicas and sipresolver_probe_owned_endpoints come
    # with the first session, which no etcd here grants.
    wanted = {"sipresolver_etcd_session_active": "0"}
    deadline, seen = time.monotonic() + 10, {}
    while time.monotonic() < deadline:
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        seen = {m.group(1): m.group(2) for m in re.finditer(r"^(sipresolver_\w+) (\S+)$", text, re.M)
                if m.group(1) in wanted}
        if all(n in seen and (v is None or seen[n] == v) for n, v in wanted.items()):
            break
        time.sleep(0.5)
    bad = [n for n, v in wanted.items() if n not in seen or (v is not None and seen[n] != v)]
    for n in wanted:
        print(f"  {'FAIL' if n in bad else 'ok  '} {n} {seen.get(n, 'absent')}"
              + (" (no etcd answers: session inactive)" if n == "sipresolver_etcd_session_active" else ""))
    sys.exit(1 if bad else 0)


COMMANDS = {"values-tls": values_tls, "prometheus-config": prometheus_config,
            "image-config": image_config, "describe-image": describe_image,
            "without-user": without_user, "etcd-secret": etcd_secret, "etcd-metrics": etcd_metrics}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
