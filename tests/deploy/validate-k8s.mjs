// Validates Kubernetes objects against the Kubernetes OpenAPI schemas, as
// compiled into the models of kubernetes-models (core API) and
// @kubernetes-models/prometheus-operator (ServiceMonitor, PodMonitor,
// PrometheusRule CRDs), both validated by @kubernetes-models/validate.
//
//   node validate-k8s.mjs FILE.yaml...     (multi-document YAML)
//
// Every object must have a model: an unknown apiVersion/kind is an error, not
// a skip. Prints one line per object; exits 1 if any is invalid.
// Limits: the schemas check types, required fields, enums, formats and
// patterns; like the API server's OpenAPI they allow unknown fields, so
// check_manifests.py reads the fields that matter by name.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

// apiVersion -> module prefix. Core ("v1") and the built-in groups come from
// kubernetes-models; monitoring.coreos.com from the prometheus-operator models.
function modulePath(apiVersion, kind) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

let failed = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const doc of docs) {
    if (doc.errors.length) {
      console.log(`FAIL ${file}: YAML: ${doc.errors[0].message}`);
      failed++;
      continue;
    }
    const obj = doc.toJSON();
    if (obj === null || obj === undefined) continue;  // empty document
    // kustomize v5 wraps a Secret's base64 at 70 columns; the API server's
    // decoder (Go encoding/base64) drops the newlines, the "byte" format
    // of the schema does not: compare what the server would store.
    if (obj.kind === "Secret" && obj.data) {
      for (const k of Object.keys(obj.data)) obj.data[k] = String(obj.data[k]).replace(/[\r\n]/g, "");
    }
    const { apiVersion, kind } = obj;
    const name = obj.metadata?.name ?? "?";
    const what = `${kind}/${name} (${apiVersion})`;
    checked++;
    let Model;
    try {
      Model = (await import(modulePath(apiVersion, kind)))[kind];
    } catch (e) {
      Model = undefined;
    }
    if (typeof Model !== "function") {
      console.log(`FAIL ${what}: no schema for this apiVersion/kind`);
      failed++;
      continue;
    }
    try {
      new Model(obj).validate();
      console.log(`ok   ${what}`);
    } catch (e) {
      console.log(`FAIL ${what}: ${e.message}`);
      failed++;
    }
  }
}
if (checked === 0) {
  console.log("FAIL no objects given");
  failed++;
}
console.log(`${checked} objects, ${failed} invalid`);
process.exit(failed ? 1 : 0);
