{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "sipresolver.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or the release name when it contains the chart name. */}}
{{- define "sipresolver.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sipresolver.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The recommended app.kubernetes.io labels. */}}
{{- define "sipresolver.labels" -}}
helm.sh/chart: {{ include "sipresolver.chart" . }}
{{ include "sipresolver.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/part-of: sipresolver
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "sipresolver.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sipresolver.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sipresolver.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sipresolver.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The port Kubernetes' gRPC probes use: plaintext, so the health-only port under TLS. */}}
{{- define "sipresolver.probePort" -}}
{{- if .Values.tls.enabled }}{{ .Values.ports.health }}{{ else }}{{ .Values.ports.grpc }}{{ end }}
{{- end }}

{{- define "sipresolver.probeCredentialsSecret" -}}
{{- default (printf "%s-probe-credentials" (include "sipresolver.fullname" .)) .Values.probeCredentials.existingSecret }}
{{- end }}

{{- define "sipresolver.tlsSecret" -}}
{{- default (printf "%s-tls" (include "sipresolver.fullname" .)) .Values.tls.existingSecret }}
{{- end }}

{{- define "sipresolver.clientCaSecret" -}}
{{- default (printf "%s-client-ca" (include "sipresolver.fullname" .)) .Values.tls.clientCa.existingSecret }}
{{- end }}

{{- define "sipresolver.probeCredentialsEnabled" -}}
{{- if or .Values.probeCredentials.entries .Values.probeCredentials.existingSecret }}true{{ end }}
{{- end }}

{{- define "sipresolver.hasVolumes" -}}
{{- if or (include "sipresolver.probeCredentialsEnabled" .) .Values.probeTlsCa .Values.tls.enabled (include "sipresolver.etcdTlsEnabled" .) .Values.dnsFace.enabled }}true{{ end }}
{{- end }}

{{/*
The DNS face's socket: --dns_face_socket, and the path in pdns.conf's
remote-connection-string (files/pdns.conf; tests/deploy/check_manifests.py
checks they are the same). On the volume dns-face-socket, mounted in both
containers at /run/sipresolver.
*/}}
{{- define "sipresolver.dnsFaceSocket" -}}/run/sipresolver/dns-face.sock{{- end }}

{{/* pdns.conf: files/pdns.conf, the port, then dnsFace.powerdns.extraConfig. */}}
{{- define "sipresolver.pdnsConf" -}}
{{- $conf := .Files.Get "files/pdns.conf" }}
{{- $socket := printf "remote-connection-string=unix:path=%s," (include "sipresolver.dnsFaceSocket" .) }}
{{- if not (contains $socket $conf) }}
{{- fail (printf "files/pdns.conf: no %q" $socket) }}
{{- end }}
{{- $conf }}
# From the chart's values:
local-port={{ .Values.dnsFace.powerdns.port }}
{{- with .Values.dnsFace.powerdns.extraConfig }}
{{ . }}
{{- end }}
{{- end }}

{{/* etcd.endpoints as --etcd_endpoints' value: a list joined with commas, or a string as given. */}}
{{- define "sipresolver.etcdEndpoints" -}}
{{- $endpoints := .Values.etcd.endpoints }}
{{- if kindIs "slice" $endpoints }}{{ join "," $endpoints }}{{ else if $endpoints }}{{ $endpoints }}{{ end }}
{{- end }}

{{/* The ports of etcd.endpoints (each HOST:PORT), each once, comma-separated: the NetworkPolicy's egress. */}}
{{- define "sipresolver.etcdPorts" -}}
{{- $ports := list }}
{{- with include "sipresolver.etcdEndpoints" . }}
{{- range splitList "," . }}
{{- $port := regexFind ":[0-9]{1,5}$" (trim .) | trimPrefix ":" }}
{{- if not $port }}
{{- fail (printf "etcd.endpoints: %q is not HOST:PORT" .) }}
{{- end }}
{{- $ports = append $ports $port }}
{{- end }}
{{- end }}
{{- join "," (uniq $ports) }}
{{- end }}

{{- define "sipresolver.etcdTlsEnabled" -}}
{{- if and (include "sipresolver.etcdEndpoints" .) .Values.etcd.tls.secretName }}true{{ end }}
{{- end }}

{{/* A value as a flag value: whole numbers without exponent (values arrive as float64). */}}
{{- define "sipresolver.scalar" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- end }}

{{/*
sipresolverd's arguments, as a YAML list: the ports, every `server` key as
--<key in snake_case>, every `probe` key as --probe_<key in snake_case>
(null, "" and [] left out, so the binary's default applies; lists joined
with commas), the mounted files' flags, TLS, etcd, the DNS face, then extraArgs.
*/}}
{{- define "sipresolver.args" -}}
{{- if and .Values.server.operatorIdentities (not (and .Values.tls.enabled .Values.tls.clientCa.enabled)) }}
{{- fail "server.operatorIdentities needs mutual TLS: tls.enabled and tls.clientCa.enabled" }}
{{- end }}
{{- $args := list (printf "--listen=[::]:%v" .Values.ports.grpc) (printf "--metrics_listen=[::]:%v" .Values.ports.metrics) }}
{{- range $group := list (list "" .Values.server) (list "probe_" .Values.probe) }}
{{- $prefix := index $group 0 }}
{{- range $key, $value := index $group 1 }}
{{- $name := printf "%s%s" $prefix (snakecase $key) }}
{{- if kindIs "slice" $value }}
{{- if $value }}
{{- $items := list }}
{{- range $value }}{{ $items = append $items (include "sipresolver.scalar" .) }}{{ end }}
{{- $args = append $args (printf "--%s=%s" $name (join "," $items)) }}
{{- end }}
{{- else if not (or (kindIs "invalid" $value) (eq (toString $value) "")) }}
{{- $args = append $args (printf "--%s=%s" $name (include "sipresolver.scalar" $value)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if include "sipresolver.probeCredentialsEnabled" . }}
{{- $args = append $args "--probe_credentials_file=/etc/sipresolver/probe-credentials/credentials" }}
{{- end }}
{{- if .Values.probeTlsCa }}
{{- $args = append $args "--probe_tls_ca_file=/etc/sipresolver/probe-tls-ca/ca.crt" }}
{{- end }}
{{- if .Values.tls.enabled }}
{{- $args = append $args "--tls_cert_file=/etc/sipresolver/tls/tls.crt" }}
{{- $args = append $args "--tls_key_file=/etc/sipresolver/tls/tls.key" }}
{{- $args = append $args (printf "--tls_reload_interval=%v" .Values.tls.reloadInterval) }}
{{- $args = append $args (printf "--health_listen=[::]:%v" .Values.ports.health) }}
{{- if .Values.tls.clientCa.enabled }}
{{- $args = append $args "--tls_client_ca_file=/etc/sipresolver/client-ca/ca.crt" }}
{{- end }}
{{- end }}
{{- if and .Values.etcd.tls.secretName (not (include "sipresolver.etcdEndpoints" .)) }}
{{- fail "etcd.tls.secretName needs etcd.endpoints" }}
{{- end }}
{{- with include "sipresolver.etcdEndpoints" . }}
{{- /* --replica_id stays the binary's default: the host name, the pod's name. */}}
{{- $args = append $args (printf "--etcd_endpoints=%s" .) }}
{{- with $.Values.etcd.prefix }}
{{- $args = append $args (printf "--etcd_prefix=%s" .) }}
{{- end }}
{{- with $.Values.etcd.leaseTtl }}
{{- $args = append $args (printf "--etcd_lease_ttl=%s" .) }}
{{- end }}
{{- if $.Values.etcd.tls.secretName }}
{{- $args = append $args "--etcd_tls_ca_file=/etc/sipresolver/etcd-tls/ca.crt" }}
{{- $args = append $args "--etcd_tls_cert_file=/etc/sipresolver/etcd-tls/tls.crt" }}
{{- $args = append $args "--etcd_tls_key_file=/etc/sipresolver/etcd-tls/tls.key" }}
{{- end }}
{{- end }}
{{- if .Values.dnsFace.enabled }}
{{- if not (get .Values.dnsFace.config "zones") }}
{{- fail "dnsFace.enabled needs dnsFace.config with at least one zone (docs/dns-face.md)" }}
{{- end }}
{{- /* The face watches every name's profile: sipresolverd refuses to start
       when --probe_allow admits nothing. */}}
{{- $allow := .Values.probe.allow }}
{{- range .Values.extraArgs }}
{{- if and (hasPrefix "--probe_allow=" .) (ne . "--probe_allow=") }}
{{- $allow = true }}
{{- end }}
{{- end }}
{{- if not $allow }}
{{- fail "dnsFace.enabled needs probe.allow admitting the ITSPs of dnsFace.config's names: sipresolverd refuses to start a DNS face when nothing may be probed (docs/dns-face.md)" }}
{{- end }}
{{- $args = append $args (printf "--dns_face_socket=%s" (include "sipresolver.dnsFaceSocket" .)) }}
{{- $args = append $args "--dns_face_config=/etc/sipresolver/dns-face/dns-face.json" }}
{{- end }}
{{- range .Values.extraArgs }}
{{- $args = append $args . }}
{{- end }}
{{- toYaml $args }}
{{- end }}
