"""Results in the formats other tools read: traces as OpenTelemetry (OTLP JSON) and Jaeger
JSON, metrics as Prometheus/OpenMetrics text, time series as CSV and Parquet."""
