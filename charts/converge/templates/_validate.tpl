{{/*
Rules values.schema.json cannot state (they relate two values). Each fails the render with the value to change.
*/}}
{{- define "converge.validate" -}}
{{- $gw := .Values.agentGateway }}
{{- if ge (int $gw.drain.marginSeconds) (int $gw.shutdownTimeoutSeconds) }}
{{- fail (printf "agentGateway.drain.marginSeconds (%v) must be less than agentGateway.shutdownTimeoutSeconds (%v): the drain window is their difference" $gw.drain.marginSeconds $gw.shutdownTimeoutSeconds) }}
{{- end }}
{{- $window := sub (int $gw.shutdownTimeoutSeconds) (int $gw.drain.marginSeconds) }}
{{- if gt (int (add $gw.drain.spreadSeconds $gw.drain.reconnectMaxSeconds)) (int $window) }}
{{- fail (printf "agentGateway.drain.spreadSeconds + reconnectMaxSeconds (%v) must fit in the drain window, shutdownTimeoutSeconds - drain.marginSeconds (%v): agents told to reconnect later would still be connected at the deadline" (add $gw.drain.spreadSeconds $gw.drain.reconnectMaxSeconds) $window) }}
{{- end }}
{{- range $key := list "sessions" "agentGateway" }}
{{- $a := (index $.Values $key).autoscaling }}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- fail (printf "%s.autoscaling.minReplicas (%v) must not exceed maxReplicas (%v)" $key $a.minReplicas $a.maxReplicas) }}
{{- end }}
{{- end }}
{{- $partitions := int .Values.kafka.partitions }}
{{- $s := .Values.sessions }}
{{- $sessionsMax := ternary $s.autoscaling.maxReplicas $s.replicaCount $s.autoscaling.enabled }}
{{- if gt (int $sessionsMax) $partitions }}
{{- fail (printf "sessions may run %v replicas but kafka.partitions is %v: one partition has one owner, so a replica beyond the partitions owns no session; lower sessions.autoscaling.maxReplicas (or replicaCount)" $sessionsMax $partitions) }}
{{- end }}
{{- if gt (int .Values.identity.replicaCount) $partitions }}
{{- fail (printf "identity.replicaCount (%v) exceeds kafka.partitions (%v): a replica beyond the partitions owns no computer" .Values.identity.replicaCount $partitions) }}
{{- end }}
{{- if and (eq .Values.apiRouting "edge") (not .Values.dashboard.enabled) }}
{{- fail "apiRouting edge needs the dashboard (its edge routes /api/v1/*): enable dashboard or set apiRouting to ingress" }}
{{- end }}
{{- if and (ne .Values.kafka.sasl.mechanism "none") (not .Values.kafka.sasl.username) }}
{{- fail "kafka.sasl.username is required when kafka.sasl.mechanism is not none" }}
{{- end }}
{{- end }}
