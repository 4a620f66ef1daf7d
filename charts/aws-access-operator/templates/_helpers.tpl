{{/* Chart name, overridable. */}}
{{- define "aws-access-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, truncated to 63 characters (DNS label limit).
A release name that already contains the chart name is used as it is.
*/}}
{{- define "aws-access-operator.fullname" -}}
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

{{- define "aws-access-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aws-access-operator.labels" -}}
helm.sh/chart: {{ include "aws-access-operator.chart" . }}
{{ include "aws-access-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels: immutable on a Deployment, so nothing version-dependent. */}}
{{- define "aws-access-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aws-access-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "aws-access-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aws-access-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* --metrics-address: an IPv6 address goes in brackets before the port. */}}
{{- define "aws-access-operator.metricsAddress" -}}
{{- $ip := .Values.metrics.bindAddress -}}
{{- if contains ":" $ip }}[{{ $ip }}]{{ else }}{{ $ip }}{{ end }}:{{ .Values.metrics.port }}
{{- end }}
