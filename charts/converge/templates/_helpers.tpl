{{/* The chart name, or nameOverride. */}}
{{- define "converge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The resource name prefix: fullnameOverride, else <release>-<name> (just <release> if it holds the name). */}}
{{- define "converge.fullname" -}}
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

{{- define "converge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The five services: values key -> component name (the name of its workspace and its image). */}}
{{- define "converge.services" -}}
identity: identity
deployments: deployments
sessions: sessions
agentGateway: agent-gateway
sync: sync
{{- end }}

{{- define "converge.labels" -}}
helm.sh/chart: {{ include "converge.chart" . }}
{{ include "converge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: converge
{{- end }}

{{- define "converge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "converge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component; call with (dict "root" $ "component" "agent-gateway"). */}}
{{- define "converge.componentLabels" -}}
{{ include "converge.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "converge.componentSelectorLabels" -}}
{{ include "converge.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* <fullname>-<component>, at most 63 characters. */}}
{{- define "converge.componentName" -}}
{{- printf "%s-%s" (include "converge.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* A component's image; call with (dict "root" $ "values" .Values.identity). */}}
{{- define "converge.image" -}}
{{- $registry := .root.Values.image.registry }}
{{- $tag := .values.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- if $registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" $registry) .values.image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The Secret a reference reads: its own existingSecret, else secrets.existingSecret. */}}
{{- define "converge.secretName" -}}
{{- .own | default .root.Values.secrets.existingSecret }}
{{- end }}

{{/* Seconds the pod sleeps in preStop before SIGTERM (the component's, else 5). */}}
{{- define "converge.preStopSleepSeconds" -}}
{{- if hasKey .values "preStopSleepSeconds" }}{{ .values.preStopSleepSeconds }}{{ else }}5{{ end }}
{{- end }}

{{/*
The grace period: preStop sleep, then the process's own deadline (SHUTDOWN_TIMEOUT), then the hard-exit timer
runService arms one second after it, then slack. The process never needs more, so the kubelet's SIGKILL only
ever meets a hung process.
*/}}
{{- define "converge.terminationGracePeriodSeconds" -}}
{{- $slack := 4 }}
{{- if hasKey .values "graceSlackSeconds" }}{{ $slack = .values.graceSlackSeconds }}{{ end }}
{{- add (include "converge.preStopSleepSeconds" . | atoi) .values.shutdownTimeoutSeconds 1 $slack }}
{{- end }}

{{/* Pod scheduling and security common to every component; call with (dict "root" $ "values" ... "component" ...). */}}
{{- define "converge.podScheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- if .root.Values.topologySpread.enabled }}
topologySpreadConstraints:
  {{- range .root.Values.topologySpread.topologyKeys }}
  - maxSkew: {{ $.root.Values.topologySpread.maxSkew }}
    topologyKey: {{ . }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "converge.componentSelectorLabels" $ | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml (.values.podSecurityContext | default .root.Values.podSecurityContext) | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Probes on /healthz (alive) and /readyz (dependencies reachable, not draining) of the named port. */}}
{{- define "converge.probes" -}}
{{- $p := .root.Values.probes }}
startupProbe:
  httpGet: { path: {{ .liveness }}, port: {{ .port }} }
  periodSeconds: {{ $p.startup.periodSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
livenessProbe:
  httpGet: { path: {{ .liveness }}, port: {{ .port }} }
  periodSeconds: {{ $p.liveness.periodSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
readinessProbe:
  httpGet: { path: {{ .readiness }}, port: {{ .port }} }
  periodSeconds: {{ $p.readiness.periodSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
{{- end }}

{{/* The hosts' TLS sections, for an Ingress. */}}
{{- define "converge.ingressTls" -}}
{{- if .secretName }}
tls:
  - hosts: [{{ .host | quote }}]
    secretName: {{ .secretName }}
{{- end }}
{{- end }}
