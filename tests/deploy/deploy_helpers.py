#!/usr/bin/env python3
"""Small steps of scripts/check-deploy that are easier in Python than in bash.

  deploy_helpers.py values-tls PKI_DIR          chart values with the test PKI's PEMs (YAML)
  deploy_helpers.py prometheus-config ROOT      scrape-config.yml's job with static targets
                                                in place of pod discovery, and the rules (YAML)
  deploy_helpers.py image-config < INSPECT      the OCI config out of `buildah inspect` (JSON)
  deploy_helpers.py describe-image CONFIG       User, Entrypoint, Cmd, ExposedPorts, StopSignal
  deploy_helpers.py without-user CONFIG OUT     the config without USER (the self-test's root image)
"""
import json
import pathlib
import sys

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


COMMANDS = {"values-tls": values_tls, "prometheus-config": prometheus_config,
            "image-config": image_config, "describe-image": describe_image,
            "without-user": without_user}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
