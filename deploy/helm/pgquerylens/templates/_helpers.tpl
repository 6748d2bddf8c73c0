{{/* Chart name, overridable; 63 characters is the DNS label limit of resource names. */}}
{{- define "pgquerylens.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the resources. The StatefulSet's pods append "-<ordinal>" and the controller adds
a revision-hash label of its own, so keep the name short enough for both.
*/}}
{{- define "pgquerylens.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "pgquerylens.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "pgquerylens.labels" -}}
helm.sh/chart: {{ include "pgquerylens.chart" . }}
{{ include "pgquerylens.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the collector pods; immutable once a StatefulSet exists. */}}
{{- define "pgquerylens.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pgquerylens.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: collector
{{- end }}

{{- define "pgquerylens.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pgquerylens.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pgquerylens.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret the chart creates for passwords given as values. */}}
{{- define "pgquerylens.secretName" -}}
{{- include "pgquerylens.fullname" . }}
{{- end }}

{{/* Where the Secrets read as files are mounted. */}}
{{- define "pgquerylens.secretDir" -}}
/var/run/secrets/pgquerylens
{{- end }}

{{/*
Where one password comes from: {"name","key"} of a Secret (an existing one, or the chart's
under `chartKey`), or {} when neither is set. Setting both is refused: the chart would have
to guess which one wins. Call with (dict "source" <values> "chartKey" <key> "what" <label>
"root" $).
*/}}
{{- define "pgquerylens.secretRef" -}}
{{- $src := .source }}
{{- $existing := "" }}
{{- if $src.existingSecret }}{{ $existing = $src.existingSecret.name | default "" }}{{ end }}
{{- $password := $src.password | default "" }}
{{- if and $existing $password }}
{{- fail (printf "%s: set either password or existingSecret.name, not both" .what) }}
{{- end }}
{{- if $existing }}
{{- $key := $src.existingSecret.key | default "password" }}
{{- dict "name" $existing "key" $key | toJson }}
{{- else if $password }}
{{- dict "name" (include "pgquerylens.secretName" .root) "key" .chartKey | toJson }}
{{- else }}
{{- dict | toJson }}
{{- end }}
{{- end }}

{{/* Secret key of a target's own password in the chart's Secret. */}}
{{- define "pgquerylens.targetKey" -}}
{{- printf "target-%d-password" . }}
{{- end }}

{{/* Environment variable carrying a target's own password. */}}
{{- define "pgquerylens.targetEnv" -}}
{{- printf "PGQUERYLENS_TARGET_%d_PASSWORD" . }}
{{- end }}

{{/*
Checks that span several values and that a JSON schema cannot express. Included by the
StatefulSet and by NOTES.txt, so both `helm template` and `helm install` stop on them.
*/}}
{{- define "pgquerylens.validate" -}}
{{- $v := .Values }}
{{- if and (eq (len $v.targets) 0) (not $v.datastore.enabled) }}
{{- fail "[ERROR] no targets: list PostgreSQL servers in `targets`, or enable `datastore` to read them from its connections table" }}
{{- end }}
{{- $default := include "pgquerylens.secretRef" (dict "source" $v.auth "chartKey" "password" "what" "auth" "root" .) | fromJson }}
{{- $names := dict }}
{{- range $i, $t := $v.targets }}
{{- if hasKey $names $t.name }}
{{- fail (printf "[ERROR] targets[%d]: duplicate target name %q" $i $t.name) }}
{{- end }}
{{- $_ := set $names $t.name true }}
{{- $own := include "pgquerylens.secretRef" (dict "source" $t "chartKey" (include "pgquerylens.targetKey" $i) "what" (printf "targets[%d] (%s)" $i $t.name) "root" $) | fromJson }}
{{- if and (not $own.name) (not $default.name) }}
{{- $_ := required (printf "[ERROR] targets[%d] (%s) has no password: set auth.existingSecret.name (an existing Secret) or auth.password (the chart creates one), or the target's own existingSecret / password" $i $t.name) nil }}
{{- end }}
{{- end }}
{{- if $v.datastore.enabled }}
{{- $_ := required "[ERROR] datastore.enabled needs datastore.url (postgres://user@host:5432/database)" ($v.datastore.url | default nil) }}
{{- $ds := include "pgquerylens.secretRef" (dict "source" $v.datastore "chartKey" "datastore-password" "what" "datastore" "root" .) | fromJson }}
{{- $_ := required "[ERROR] datastore.enabled needs a password: set datastore.existingSecret.name (an existing Secret) or datastore.password (the chart creates one)" ($ds.name | default nil) }}
{{- end }}
{{- if and $v.otlp.headersSecret.name $v.otlp.headers }}
{{- fail "[ERROR] otlp: set either headers or headersSecret.name, not both (the collector takes one or the other)" }}
{{- end }}
{{- if and (ne $v.mode "nri") $v.otlp.enabled (not $v.otlp.endpoint) }}
{{- fail (printf "[ERROR] mode %s pushes OTLP: set otlp.endpoint, or otlp.enabled=false with telemetry.prometheus=true for Prometheus pull only" $v.mode) }}
{{- end }}
{{- if and (eq $v.mode "otel") (not $v.otlp.enabled) (not $v.telemetry.prometheus) }}
{{- fail "[ERROR] mode otel with otlp.enabled=false and telemetry.prometheus=false exports nothing: enable one of them" }}
{{- end }}
{{- end }}

{{/*
The Node heap limit in MiB: heapPercent of the container's memory limit, or "" without one.
Quantities: plain bytes, or with a k/K, M, G, T (powers of 1000) or Ki, Mi, Gi, Ti suffix.
*/}}
{{- define "pgquerylens.heapMiB" -}}
{{- $limit := "" }}
{{- with .Values.resources }}{{ with .limits }}{{ $limit = toString (.memory | default "") }}{{ end }}{{ end }}
{{- if $limit }}
{{- $m := regexFindAll "^([0-9]+(?:\\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$" $limit 1 }}
{{- if not $m }}
{{- fail (printf "[ERROR] resources.limits.memory %q: use a quantity such as 512Mi, 1Gi, 500M or 1G" $limit) }}
{{- end }}
{{- $number := regexReplaceAll "[A-Za-z]+$" $limit "" | float64 }}
{{- $suffix := regexFind "[A-Za-z]+$" $limit }}
{{- $factors := dict "" 1.0 "k" 1000.0 "K" 1000.0 "M" 1e6 "G" 1e9 "T" 1e12 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 }}
{{- $mib := divf (mulf $number (get $factors $suffix)) 1048576.0 }}
{{- $heap := floor (divf (mulf $mib .Values.heapPercent) 100.0) | int }}
{{- if lt $heap 64 }}
{{- fail (printf "[ERROR] resources.limits.memory %s leaves a %d MiB heap: give the collector at least 128Mi" $limit $heap) }}
{{- end }}
{{- $heap }}
{{- end }}
{{- end }}
