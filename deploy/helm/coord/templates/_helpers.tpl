{{/* The results database's DSN from the existing Secret, as COORD_POSTGRES_DSN (read by `coord db`). */}}
{{- define "coord.dsnEnv" -}}
- name: COORD_POSTGRES_DSN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.resultsDatabase.existingSecret }}
      key: {{ .Values.resultsDatabase.secretKey }}
{{- end }}

{{- define "coord.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end }}
