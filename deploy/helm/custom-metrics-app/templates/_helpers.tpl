{{/*
Names and labels shared by every template.
*/}}

{{/* The app's name: app.kubernetes.io/name. */}}
{{- define "cma.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Object names. The release name alone when it already holds the app's name,
so `helm install custom-metrics-app ...` gives the names deploy/ uses (the
Prometheus job label is the Service's name, and the alerts and the
dashboard select by it).
*/}}
{{- define "cma.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "cma.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The tag: image.tag, else the chart's appVersion. */}}
{{- define "cma.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion | toString }}
{{- end }}

{{/* repository:tag, or repository:tag@digest. */}}
{{- define "cma.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (include "cma.tag" .) }}
{{- if .Values.image.digest }}
{{- $ref = printf "%s@%s" $ref .Values.image.digest }}
{{- end }}
{{- $ref }}
{{- end }}

{{/*
app.kubernetes.io/version: the tag, never the digest (64 hex characters
after "sha256:", over the 63 a label value may hold), cut to 63 characters
and ending in an alphanumeric character as a label value must.
*/}}
{{- define "cma.version" -}}
{{- include "cma.tag" . | trunc 63 | trimSuffix "-" | trimSuffix "." | trimSuffix "_" }}
{{- end }}

{{/* Selector labels: the app and the release. */}}
{{- define "cma.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cma.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object: the selector's, Helm's, part-of. */}}
{{- define "cma.labels" -}}
{{ include "cma.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: custom-metrics-hpa
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels of the Deployment and its pods: also the version. */}}
{{- define "cma.workloadLabels" -}}
{{ include "cma.labels" . }}
app.kubernetes.io/version: {{ include "cma.version" . | quote }}
{{- end }}

{{/*
The HPA the alerts and the dashboard watch: the chart's own, or in mode keda
the one KEDA creates, which the ScaledObject names the same
(advanced.horizontalPodAutoscalerConfig.name).
*/}}
{{- define "cma.hpaName" -}}
{{- include "cma.fullname" . }}
{{- end }}

{{/* A map as "k=v, k=v" (NOTES.txt); "nothing" when empty. */}}
{{- define "cma.pairs" -}}
{{- $pairs := list }}
{{- range $k, $v := . }}
{{- $pairs = append $pairs (printf "%s=%v" $k $v) }}
{{- end }}
{{- join ", " $pairs | default "nothing" }}
{{- end }}

{{/*
A Kubernetes quantity ("500", "1500m", "2k", 80) as a plain number, for
KEDA's threshold: its scaler parses a float (strconv.ParseFloat), so "2k"
or "500m", which the HPA of the adapter mode takes, would fail the trigger.
*/}}
{{- define "cma.plainNumber" -}}
{{- $q := toString . }}
{{- $num := regexFind "^[0-9]*\\.?[0-9]*" $q }}
{{- $suffix := trimPrefix $num $q }}
{{- if eq $suffix "" }}
{{- $q }}
{{- else if eq $suffix "m" }}
{{- divf (float64 $num) 1000 }}
{{- else }}
{{- $factors := dict "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "Pi" 1125899906842624 "Ei" 1152921504606846976 }}
{{- if not (hasKey $factors $suffix) }}
{{- fail (printf "%q: not a Kubernetes quantity suffix in %q" $suffix $q) }}
{{- end }}
{{- mulf (float64 $num) (get $factors $suffix) }}
{{- end }}
{{- end }}
