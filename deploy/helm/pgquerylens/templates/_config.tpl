{{/*
The collector's configuration file (the `pgquerylens validate` format). It never holds a
password: targets without one of their own use PGQUERYLENS_PASSWORD (the default from `auth`),
those with their own name an environment variable (passwordEnv), and the datastore's password
and server secret are files mounted from Secrets.
*/}}
{{- define "pgquerylens.config" -}}
{{- $v := .Values }}
{{- $secretDir := include "pgquerylens.secretDir" . }}
{{- $config := dict "mode" $v.mode "interval" $v.interval }}
{{- $targets := list }}
{{- range $i, $t := $v.targets }}
{{- $target := omit $t "password" "existingSecret" }}
{{- $own := include "pgquerylens.secretRef" (dict "source" $t "chartKey" (include "pgquerylens.targetKey" $i) "what" (printf "targets[%d]" $i) "root" $) | fromJson }}
{{- if $own.name }}
{{- $_ := set $target "passwordEnv" (include "pgquerylens.targetEnv" $i) }}
{{- end }}
{{- $targets = append $targets $target }}
{{- end }}
{{- $_ := set $config "targets" $targets }}
{{- range $section := list "connection" "collectors" "queryPerformance" "customQueries" }}
{{- if get $v $section }}
{{- $_ := set $config $section (get $v $section) }}
{{- end }}
{{- end }}
{{- if ne $v.mode "otel" }}
{{- $nri := deepCopy $v.nri }}
{{- if eq $v.mode "nri" }}
{{- /* A pod is long-running: one payload per interval instead of the agent's one-shot runs. */}}
{{- $_ := set $nri "daemon" true }}
{{- end }}
{{- if $nri }}
{{- $_ := set $config "nri" $nri }}
{{- end }}
{{- end }}
{{- if ne $v.mode "nri" }}
{{- $otlp := dict "enabled" false }}
{{- if $v.otlp.enabled }}
{{- $otlp = deepCopy $v.otlp.settings }}
{{- $_ := set $otlp "enabled" true }}
{{- $_ := set $otlp "endpoint" $v.otlp.endpoint }}
{{- $_ := set $otlp "protocol" $v.otlp.protocol }}
{{- if $v.otlp.headers }}
{{- $_ := set $otlp "headers" $v.otlp.headers }}
{{- end }}
{{- end }}
{{- $_ := set $config "otlp" $otlp }}
{{- end }}
{{- /* Always on: the probes and the Service need it, whatever the mode. */}}
{{- $_ := set $config "telemetry" (dict "enabled" true "host" "0.0.0.0" "port" $v.telemetry.port "prometheus" $v.telemetry.prometheus) }}
{{- if $v.datastore.enabled }}
{{- $datastore := deepCopy $v.datastore.settings }}
{{- $_ := set $datastore "url" $v.datastore.url }}
{{- $_ := set $datastore "passwordFile" (printf "%s/datastore-password" $secretDir) }}
{{- if $v.datastore.serverSecret.name }}
{{- $_ := set $datastore "secretFile" (printf "%s/server-secret" $secretDir) }}
{{- end }}
{{- $_ := set $config "datastore" $datastore }}
{{- end }}
{{- $_ := set $config "log" (dict "level" $v.log.level "format" $v.log.format) }}
{{- toYaml $config }}
{{- end }}
