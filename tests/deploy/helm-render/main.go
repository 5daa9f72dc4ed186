// helm-render renders a Helm chart the way `helm template` does, for
// scripts/check-deploy on machines without a helm binary: Go's text/template
// with the sprig function library (the same engine and functions Helm 3
// uses), plus Helm's own functions (include, tpl, required, fail, toYaml,
// fromYaml, toJson, fromJson, lookup) and built-in objects (.Values,
// .Release, .Chart, .Files, .Template, .Capabilities).
//
//	helm-render [-release NAME] [-namespace NS] [-f VALUES.yaml]... [-notes] CHART_DIR
//
// Values: the chart's values.yaml, then each -f file deep-merged over it (a
// null removes a key), numbers as float64 as in Helm. Output: every
// non-partial template under templates/, each as "---\n# Source: ...",
// or with -notes the rendered NOTES.txt. Not covered: --set, subcharts,
// .Files.Glob, schema validation (values.schema.json), hooks ordering.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml2 "gopkg.in/yaml.v2"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// fromYAMLBytes decodes YAML as Helm does (sigs.k8s.io/yaml): through JSON,
// so maps have string keys and numbers are float64.
func fromYAMLBytes(data []byte) (map[string]interface{}, error) {
	var raw interface{}
	if err := yaml2.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	j, err := json.Marshal(jsonable(raw))
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if string(j) == "null" {
		return out, nil
	}
	if err := json.Unmarshal(j, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// jsonable turns yaml.v2's map[interface{}]interface{} into string-keyed maps.
func jsonable(v interface{}) interface{} {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := map[string]interface{}{}
		for k, val := range t {
			m[fmt.Sprint(k)] = jsonable(val)
		}
		return m
	case []interface{}:
		for i := range t {
			t[i] = jsonable(t[i])
		}
		return t
	}
	return v
}

// toYAML is Helm's toYaml: JSON first (sorted keys, integral numbers without
// exponent), then YAML, without the final newline.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var obj interface{}
	if err := yaml2.Unmarshal(j, &obj); err != nil {
		return ""
	}
	out, err := yaml2.Marshal(obj)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			dst[k] = merge(dm, sm)
		} else {
			dst[k] = v
		}
	}
	return dst
}

type files struct{ dir string }

func (f files) Get(name string) string {
	b, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		return ""
	}
	return string(b)
}

type capabilities struct {
	KubeVersion map[string]string
	APIVersions apiVersions
}
type apiVersions struct{}

func (apiVersions) Has(string) bool { return true }

func run() error {
	release := flag.String("release", "sipresolver", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead")
	var vf valueFiles
	flag.Var(&vf, "f", "values file (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		return errors.New("usage: helm-render [-release NAME] [-namespace NS] [-f FILE]... [-notes] CHART_DIR")
	}
	dir := flag.Arg(0)

	chartBytes, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return err
	}
	chartMeta, err := fromYAMLBytes(chartBytes)
	if err != nil {
		return fmt.Errorf("Chart.yaml: %w", err)
	}
	chart := map[string]interface{}{}
	for k, v := range chartMeta { // Helm exposes Chart.yaml fields capitalised.
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}
	name, _ := chart["Name"].(string)

	valuesBytes, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		return err
	}
	values, err := fromYAMLBytes(valuesBytes)
	if err != nil {
		return fmt.Errorf("values.yaml: %w", err)
	}
	for _, f := range vf {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		extra, err := fromYAMLBytes(b)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		values = merge(values, extra)
	}

	t := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		c, err := t.Clone()
		if err != nil {
			return "", err
		}
		c, err = c.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = c.Execute(&buf, data)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || fmt.Sprint(v) == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m, err := fromYAMLBytes([]byte(s))
		if err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["lookup"] = func(string, string, string, string) map[string]interface{} {
		return map[string]interface{}{}
	}
	t.Funcs(funcs)

	tdir := filepath.Join(dir, "templates")
	entries, err := os.ReadDir(tdir)
	if err != nil {
		return err
	}
	var renderable []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(tdir, e.Name()))
		if err != nil {
			return err
		}
		tname := name + "/templates/" + e.Name()
		if _, err := t.New(tname).Parse(string(b)); err != nil {
			return err
		}
		if !strings.HasPrefix(e.Name(), "_") && e.Name() != "NOTES.txt" {
			renderable = append(renderable, tname)
		}
	}
	sort.Strings(renderable)

	top := func(tname string) map[string]interface{} {
		return map[string]interface{}{
			"Values": values,
			"Chart":  chart,
			"Release": map[string]interface{}{
				"Name": *release, "Namespace": *namespace, "Service": "Helm",
				"IsInstall": true, "IsUpgrade": false, "Revision": 1,
			},
			"Files":    files{dir},
			"Template": map[string]interface{}{"Name": tname, "BasePath": name + "/templates"},
			"Capabilities": capabilities{
				KubeVersion: map[string]string{"Version": "v1.30.0", "Major": "1", "Minor": "30", "GitVersion": "v1.30.0"},
			},
		}
	}
	if *notes {
		tname := name + "/templates/NOTES.txt"
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, tname, top(tname)); err != nil {
			return err
		}
		fmt.Print(buf.String())
		return nil
	}
	for _, tname := range renderable {
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, tname, top(tname)); err != nil {
			return err
		}
		out := strings.TrimSpace(buf.String())
		// Split multi-document output, drop documents that are only comments.
		for _, doc := range strings.Split(out, "\n---") {
			body := strings.TrimSpace(strings.TrimPrefix(doc, "---"))
			meaningful := false
			for _, line := range strings.Split(body, "\n") {
				l := strings.TrimSpace(line)
				if l != "" && !strings.HasPrefix(l, "#") {
					meaningful = true
					break
				}
			}
			if meaningful {
				fmt.Printf("---\n# Source: %s\n%s\n", tname, body)
			}
		}
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "helm-render:", err)
		os.Exit(1)
	}
}
