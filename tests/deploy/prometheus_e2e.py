#!/usr/bin/env python3
"""A real Prometheus scrapes a running sipresolverd through the shipped
scrape job and evaluates the shipped rules. Run by run_pod.py --then, which
passes the running pod in SIPRESOLVER_POD_JSON.

  prometheus_e2e.py ROOT

The job is deploy/prometheus/scrape-config.yml's, unchanged but for its
service discovery: instead of kubernetes_sd_configs, static targets carry the
meta labels pod discovery would give this pod (one target per container port,
the pod's labels and prometheus.io annotations; the port annotation holds the
loopback port the metrics port is mapped to). So the relabelling that keeps
the metrics port and honours the annotations is what is tested. rule_files:
deploy/prometheus/sipresolver-rules.yml.

Checks (bounded waits): exactly one active target, up; `sipresolver_serving`
returns 1 with the namespace and pod labels through /api/v1/query; both rule
groups load with health ok; a recording rule returns data.
"""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

FAILURES = []


def expect(cond, msg):
    print(f"  {'ok  ' if cond else 'FAIL'} {msg}", flush=True)
    if not cond:
        FAILURES.append(msg)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def meta_name(key):
    return "".join(ch if ch.isalnum() else "_" for ch in key)


def main():
    root = pathlib.Path(sys.argv[1])
    pod = json.loads(os.environ["SIPRESOLVER_POD_JSON"])
    scrape = yaml.safe_load((root / "deploy/prometheus/scrape-config.yml").read_text())
    job = next(j for j in scrape["scrape_configs"] if j["job_name"] == "sipresolver")
    del job["kubernetes_sd_configs"]
    ann = dict(pod["annotations"])
    metrics_container_port = ann.get("prometheus.io/port")
    ann["prometheus.io/port"] = str(pod["ports"][metrics_container_port])
    common = {"__meta_kubernetes_namespace": pod["namespace"],
              "__meta_kubernetes_pod_name": pod["name"] + "-7d9c8b6f5-x2x4z"}
    common.update({"__meta_kubernetes_pod_label_" + meta_name(k): v for k, v in pod["labels"].items()})
    common.update({"__meta_kubernetes_pod_annotation_" + meta_name(k): v for k, v in ann.items()})
    names = {"50051": "grpc", "9464": "metrics", "50052": "health"}
    job["static_configs"] = [
        {"targets": [f"127.0.0.1:{local}"],
         "labels": {**common, "__meta_kubernetes_pod_container_port_name": names.get(cport, "port" + cport),
                    "__meta_kubernetes_pod_container_port_number": cport}}
        for cport, local in pod["ports"].items()]
    job["scrape_interval"] = "1s"
    job["scrape_timeout"] = "1s"

    work = pathlib.Path(tempfile.mkdtemp(prefix="sipresolver-prom-"))
    port = free_port()
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
              "rule_files": [str((root / "deploy/prometheus/sipresolver-rules.yml").resolve())],
              "scrape_configs": [job]}
    (work / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    res = subprocess.run(["promtool", "check", "config", str(work / "prometheus.yml")], capture_output=True, text=True)
    expect(res.returncode == 0, "promtool check config: the scrape job (static targets) and rules load"
           + ("" if res.returncode == 0 else f": {res.stdout}{res.stderr}"))
    log = open(work / "prometheus.log", "wb")
    prom = subprocess.Popen(
        ["prometheus", f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def api(path, **params):
        url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return json.load(r)
        except OSError:
            return None

    def poll(fn, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if prom.poll() is not None:
                return None
            v = fn()
            if v:
                return v
            time.sleep(0.25)
        return None

    try:
        ready = poll(lambda: api("/api/v1/status/buildinfo"), 20)
        expect(ready is not None, f"Prometheus {ready['data']['version'] if ready else '?'} serves its API on 127.0.0.1:{port}")

        def targets():
            t = api("/api/v1/targets")
            active = t["data"]["activeTargets"] if t else []
            return active if active and all(a["health"] == "up" for a in active) else None
        active = poll(targets, 20) or []
        expect(len(active) == 1 and active[0]["labels"].get("job") == "sipresolver"
               and active[0]["scrapeUrl"].endswith(f":{ann['prometheus.io/port']}/metrics"),
               f"one active target, up, at the annotated port and path: {[a['scrapeUrl'] for a in active]}"
               f" ({len(job['static_configs'])} container ports discovered; relabelling kept the metrics port)")

        def query(q):
            r = api("/api/v1/query", query=q)
            return r["data"]["result"] if r and r.get("status") == "success" and r["data"]["result"] else None
        result = poll(lambda: query("sipresolver_serving"), 15) or []
        labels = result[0]["metric"] if result else {}
        expect(len(result) == 1 and result[0]["value"][1] == "1" and labels.get("namespace") == pod["namespace"]
               and labels.get("pod"),
               f"/api/v1/query?query=sipresolver_serving -> {[(r['metric'], r['value'][1]) for r in result]}")

        def rules():
            r = api("/api/v1/rules")
            groups = r["data"]["groups"] if r else []
            evaluated = [g for g in groups if not g.get("lastEvaluation", "0001").startswith("0001")]
            return groups if len(groups) == 2 and len(evaluated) == 2 else None
        groups = poll(rules, 15) or []
        bad = [rule["name"] for g in groups for rule in g["rules"] if rule.get("health") != "ok"]
        expect(len(groups) == 2 and not bad,
               f"rule groups {[g['name'] for g in groups]} evaluate, every rule health ok"
               + (f" (not ok: {bad})" if bad else ""))
        rec = poll(lambda: query("sipresolver:decision_streams:sum"), 15) or []
        expect(len(rec) == 1 and rec[0]["metric"].get("namespace") == pod["namespace"],
               f"recording rule sipresolver:decision_streams:sum -> {[(r['metric'], r['value'][1]) for r in rec]}")
    finally:
        if prom.poll() is None:
            os.killpg(prom.pid, signal.SIGTERM)
            try:
                prom.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(prom.pid, signal.SIGKILL)
                prom.wait()
        if FAILURES:
            print("  --- prometheus log ---\n" + (work / "prometheus.log").read_text(errors="replace")[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
