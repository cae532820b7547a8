"""Prometheus metrics and OpenTelemetry tracing, named the same in every generated service.

Traces go nowhere unless asked: OTEL_TRACES_EXPORTER=console prints spans; an
OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER=otlp) sends them over OTLP/HTTP, which
needs the opentelemetry-exporter-otlp-proto-http package installed as well.
"""

from __future__ import annotations

import importlib
import logging
import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

REQUESTS = Counter(
    "scalesim_requests",
    "Requests served, by operation and outcome",
    ["operation", "outcome"],
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "scalesim_requests_in_flight",
    "Requests being served now, by operation",
    ["operation"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "scalesim_request_duration_seconds",
    "Time to answer a request",
    ["operation"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
ATTEMPTS = Counter(
    "scalesim_dependency_attempts",
    "Attempts of calls to a dependency, retries included",
    ["operation", "dependency"],
    registry=REGISTRY,
)
RETRIES = Counter(
    "scalesim_dependency_retries",
    "Retries of calls to a dependency",
    ["operation", "dependency"],
    registry=REGISTRY,
)
FAILURES = Counter(
    "scalesim_dependency_failures",
    "Calls to a dependency that failed after their last attempt, by cause",
    ["operation", "dependency", "cause"],
    registry=REGISTRY,
)
BREAKER_STATE = Gauge(
    "scalesim_circuit_breaker_state",
    "Circuit breaker state: 0 closed, 1 open, 2 half_open",
    ["operation", "dependency"],
    registry=REGISTRY,
)
NOT_PERMITTED = Counter(
    "scalesim_circuit_breaker_not_permitted_calls",
    "Attempts the circuit breaker refused",
    ["operation", "dependency"],
    registry=REGISTRY,
)
BULKHEAD_REJECTIONS = Counter(
    "scalesim_bulkhead_rejections",
    "Attempts the bulkhead refused",
    ["operation", "dependency"],
    registry=REGISTRY,
)
POOL_OVERFLOWS = Counter(
    "scalesim_connection_pool_overflows",
    "Attempts the callee's connection pool refused (Envoy's overflow)",
    ["operation", "dependency"],
    registry=REGISTRY,
)

TRACER = trace.get_tracer("scalesim")
OTLP_MODULE = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
log = logging.getLogger(__name__)


def start_tracing(service: str) -> TracerProvider:
    """Install the process's tracer provider with the exporter the environment asks for."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    processor = _span_processor()
    if processor is not None:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    return provider


def _span_processor() -> SpanProcessor | None:
    default = "otlp" if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else "none"
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", default)
    if exporter == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter())
    if exporter == "otlp":
        try:
            module = importlib.import_module(OTLP_MODULE)
        except ImportError:
            log.warning(
                "OTLP tracing asked for, but %s is not installed; no traces sent", OTLP_MODULE
            )
            return None
        return BatchSpanProcessor(module.OTLPSpanExporter())
    return None
