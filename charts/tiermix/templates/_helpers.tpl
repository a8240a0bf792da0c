{{/* Names, labels and small shared pieces of the tiermix chart. */}}

{{- define "tiermix.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-tiermix, or just <release> when the release name already contains the chart name. Max 50 characters so that suffixes such as -controller-metrics still fit in 63. */}}
{{- define "tiermix.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tiermix.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "tiermix.labels" -}}
helm.sh/chart: {{ include "tiermix.chart" . }}
app.kubernetes.io/name: {{ include "tiermix.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tiermix
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: (dict "ctx" $ "component" "router"). */}}
{{- define "tiermix.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tiermix.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component's objects: (dict "ctx" $ "component" "router"). */}}
{{- define "tiermix.componentLabels" -}}
{{ include "tiermix.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tiermix.controller.fullname" -}}
{{- printf "%s-controller" (include "tiermix.fullname" .) }}
{{- end }}

{{- define "tiermix.router.fullname" -}}
{{- printf "%s-router" (include "tiermix.fullname" .) }}
{{- end }}

{{- define "tiermix.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create }}
{{- default (include "tiermix.controller.fullname" .) .Values.controller.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.controller.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tiermix.router.serviceAccountName" -}}
{{- if .Values.router.serviceAccount.create }}
{{- default (include "tiermix.router.fullname" .) .Values.router.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.router.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The ConfigMap the controller writes the router's configuration into. */}}
{{- define "tiermix.router.configMapName" -}}
{{- default (include "tiermix.router.fullname" .) .Values.router.configMapName }}
{{- end }}

{{/* The Secret with the router's API keys. */}}
{{- define "tiermix.router.apiKeysSecretName" -}}
{{- default (printf "%s-api-keys" (include "tiermix.router.fullname" .)) .Values.router.apiKeys.existingSecret }}
{{- end }}

{{/* image reference: (dict "image" .Values.router.image "ctx" $) */}}
{{- define "tiermix.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* "true" when leader election is on. */}}
{{- define "tiermix.controller.leaderElect" -}}
{{- $mode := toString .Values.controller.leaderElection.mode }}
{{- if eq $mode "auto" }}
{{- if gt (int .Values.controller.replicas) 1 }}true{{ else }}false{{ end }}
{{- else }}
{{- $mode }}
{{- end }}
{{- end }}

{{/* Where the router's files live inside its pod. */}}
{{- define "tiermix.router.configDir" -}}/etc/tiermix/router{{- end }}
{{- define "tiermix.router.apiKeysDir" -}}/etc/tiermix/api-keys{{- end }}
{{- define "tiermix.controller.configDir" -}}/etc/tiermix/controller{{- end }}

{{/* The router's /metrics URLs for the controller's autoscaler. */}}
{{- define "tiermix.router.metricsUrls" -}}
{{- $svc := include "tiermix.router.fullname" . }}
{{- /* Fully qualified: the controller resolves the name with dns.resolve4, which ignores resolv.conf's search list. */}}
{{- if .Values.router.metricsService.enabled }}
{{- printf "http://%s-metrics.%s.svc.%s:%d/metrics" $svc .Release.Namespace .Values.clusterDomain (int .Values.router.port) }}
{{- else }}
{{- printf "http://%s.%s.svc.%s:%d/metrics" $svc .Release.Namespace .Values.clusterDomain (int .Values.router.service.port) }}
{{- end }}
{{- end }}

{{/* The controller's configuration file (controller/config/types.ts ControllerConfig), as YAML. */}}
{{- define "tiermix.controller.config" -}}
{{- if hasKey .Values.router.config "cascades" }}
{{- fail "router.config.cascades: the controller writes the router's cascades from ModelCascades; list cascades under `cascades:` instead" }}
{{- end }}
{{- range $k := list "host" "port" "apiKeys" }}
{{- if hasKey (default (dict) $.Values.router.config.server) $k }}
{{- fail (printf "router.config.server.%s is set by the chart; use %s instead" $k (get (dict "host" "router.port (the router listens on all addresses)" "port" "router.port" "apiKeys" "router.apiKeys") $k)) }}
{{- end }}
{{- end }}
{{- $server := merge (dict "host" "0.0.0.0" "port" (int .Values.router.port)) (deepCopy (default (dict) .Values.router.config.server)) }}
{{- if .Values.router.apiKeys.enabled }}
{{- $_ := set $server "apiKeys" (dict "file" (printf "%s/keys" (include "tiermix.router.apiKeysDir" .))) }}
{{- end }}
{{- $base := merge (dict "server" $server) (deepCopy (omit .Values.router.config "server")) }}
{{- $leader := eq (include "tiermix.controller.leaderElect" .) "true" }}
{{- $config := dict
  "gpuProfiles" .Values.controller.gpuProfiles
  "defaultGpuProfile" .Values.controller.defaultGpuProfile
  "vllmImage" .Values.controller.vllmImage
  "router" (dict
    "configMapNamespace" .Release.Namespace
    "configMapName" (include "tiermix.router.configMapName" .)
    "base" $base
    "metricsUrls" (list (include "tiermix.router.metricsUrls" .)))
  "namespaces" .Values.controller.watchNamespaces
  "leaderElection" (dict
    "enabled" $leader
    "leaseName" (include "tiermix.controller.fullname" .)
    "leaseNamespace" .Release.Namespace
    "leaseDurationSeconds" .Values.controller.leaderElection.leaseDurationSeconds
    "renewDeadlineSeconds" .Values.controller.leaderElection.renewDeadlineSeconds
    "retryPeriodSeconds" .Values.controller.leaderElection.retryPeriodSeconds)
  "autoscalerIntervalSeconds" .Values.controller.autoscalerIntervalSeconds
}}
{{- toYaml $config }}
{{- end }}

{{/* Pod security defaults shared by both deployments: seccomp etc. come from values; the /tmp emptyDir is here. */}}
{{- define "tiermix.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}
