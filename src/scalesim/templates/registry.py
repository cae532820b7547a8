"""Every template, by id, and the links from catalog patterns to templates."""

from __future__ import annotations

from typing import Any

from scalesim.spec.errors import did_you_mean
from scalesim.templates.base import Template
from scalesim.templates.library import (
    adapter,
    ambassador,
    api_gateway,
    autoscaling,
    banking_transfer,
    blue_green,
    bulkhead,
    cache_aside,
    caching_strategies,
    canary,
    circuit_breaker,
    cqrs,
    database_per_service,
    dead_letter_queue,
    distributed_state_machine,
    e_commerce,
    event_driven_batch,
    event_sourcing,
    gateway_aggregation,
    health_check,
    iot_ingestion,
    leader_election,
    load_balanced_service,
    outbox,
    replicated_database,
    retry_backoff,
    saga_choreography,
    saga_orchestration,
    scatter_gather,
    service_mesh,
    sharded_service,
    sidecar,
    social_feed,
    strangler_fig,
    timeout,
    work_queue,
)

# In the order `templates list` shows them: single patterns first, composites last.
TEMPLATES: tuple[Template[Any], ...] = tuple(module.TEMPLATE for module in (
    load_balanced_service,
    sharded_service,
    scatter_gather,
    gateway_aggregation,
    api_gateway,
    sidecar,
    ambassador,
    adapter,
    service_mesh,
    circuit_breaker,
    bulkhead,
    retry_backoff,
    timeout,
    health_check,
    cache_aside,
    caching_strategies,
    work_queue,
    autoscaling,
    blue_green,
    canary,
    saga_orchestration,
    saga_choreography,
    event_sourcing,
    cqrs,
    outbox,
    event_driven_batch,
    dead_letter_queue,
    leader_election,
    distributed_state_machine,
    replicated_database,
    database_per_service,
    strangler_fig,
    e_commerce,
    social_feed,
    banking_transfer,
    iot_ingestion,
))
_BY_ID = {template.id: template for template in TEMPLATES}


class UnknownTemplateError(KeyError):
    def __init__(self, template_id: str) -> None:
        self.template_id = template_id
        super().__init__(template_id)

    def __str__(self) -> str:
        return (f"unknown template '{self.template_id}'{did_you_mean(self.template_id, _BY_ID)}"
                f"; templates: {', '.join(sorted(_BY_ID))}")


def template_ids() -> list[str]:
    return sorted(_BY_ID)


def get_template(template_id: str) -> Template[Any]:
    try:
        return _BY_ID[template_id]
    except KeyError:
        raise UnknownTemplateError(template_id) from None


def templates_for_pattern(pattern_id: str) -> list[str]:
    """Ids of the templates that demonstrate a catalog pattern (by its canonical id)."""
    return sorted(t.id for t in TEMPLATES if pattern_id in t.patterns)
