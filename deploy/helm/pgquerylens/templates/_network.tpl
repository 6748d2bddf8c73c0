{{/*
The TCP port of an endpoint URL, or of `host:port` (gRPC); the scheme's default otherwise.
Call with (dict "url" <url> "default" <port>).
*/}}
{{- define "pgquerylens.urlPort" -}}
{{- $url := .url }}
{{- if not (contains "://" $url) }}{{ $url = printf "http://%s" $url }}{{ end }}
{{- $parsed := urlParse $url }}
{{- $hostPort := regexReplaceAll "^.*@" $parsed.host "" }}
{{- $port := regexFind ":[0-9]+$" $hostPort | trimPrefix ":" }}
{{- if $port }}{{ $port }}
{{- else if eq $parsed.scheme "https" }}443
{{- else }}{{ .default }}
{{- end }}
{{- end }}
