{{/*
The chart's name, overridable with nameOverride.
*/}}
{{- define "scribe-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fully qualified name of the release's objects (63 characters at most: some names are DNS labels).
*/}}
{{- define "scribe-operator.fullname" -}}
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

{{- define "scribe-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object of the release.
*/}}
{{- define "scribe-operator.labels" -}}
helm.sh/chart: {{ include "scribe-operator.chart" . }}
{{ include "scribe-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: scribe-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Labels that select the operator's pods (immutable in a Deployment: never add to them).
*/}}
{{- define "scribe-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scribe-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The operator's ServiceAccount name.
*/}}
{{- define "scribe-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "scribe-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
"true" when the replicas elect a leader (several replicas, one active), else "".
*/}}
{{- define "scribe-operator.leaderElection" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/*
The leader-election Lease's name: one per release, shared by its replicas.
*/}}
{{- define "scribe-operator.leaseName" -}}
{{- default (include "scribe-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
The namespace of the leader-election Lease: the release's unless leaderElection.namespace names another.
*/}}
{{- define "scribe-operator.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/*
The namespaces the operator watches, validated and de-duplicated; empty means all namespaces.
*/}}
{{- define "scribe-operator.watchNamespaces" -}}
{{- $seen := list }}
{{- range .Values.watchNamespaces }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" .) }}
{{- fail (printf "watchNamespaces: %q is not a valid namespace name" .) }}
{{- end }}
{{- if not (has . $seen) }}{{ $seen = append $seen . }}{{ end }}
{{- end }}
{{- join "," $seen }}
{{- end }}

{{/*
An image reference from {registry, repository, tag, digest}; the tag defaults to the chart's appVersion.
*/}}
{{- define "scribe-operator.image" -}}
{{- $ref := .image.repository }}
{{- if .image.registry }}{{ $ref = printf "%s/%s" .image.registry .image.repository }}{{ end }}
{{- if .image.digest }}
{{- printf "%s@%s" $ref .image.digest }}
{{- else }}
{{- printf "%s:%s" $ref (default .context.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{/*
The rules of the operator's (Cluster)Role: exactly the API calls it makes, nothing more.
Argument: the root context.
*/}}
{{- define "scribe-operator.rules" -}}
{{ include "scribe-operator.kindRules" . }}
# One worker pod per attempt: create it, watch it, delete it when the attempt is over or past its deadline.
# (and patch: the operator grants workers a Role with patch on pods, which RBAC allows only to who holds it).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete", "patch"]
# The workers' account in each namespace: a ServiceAccount, a Role (patch pods; the chart's
# ValidatingAdmissionPolicy narrows it to the progress annotation of the own pod) and its RoleBinding. Created once.
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["create"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["create"]
# One Secret per attempt holding its presigned URLs (so they never appear in a pod spec): written, never read.
# With notifications.readSecrets also get: the signing key a task's spec.notification.secretRef names.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create", "delete"{{ if .Values.notifications.readSecrets }}, "get"{{ end }}]
# Events about the tasks it handles.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
A scalar value as an environment variable's string: whole numbers without an exponent (Helm reads YAML numbers
as float64, which print as 1e+07), everything else as is.
*/}}
{{- define "scribe-operator.envValue" -}}
{{- if and (kindIs "float64" .) (eq (floor .) .) }}{{ int64 . }}{{ else }}{{ toString . }}{{ end }}
{{- end }}
