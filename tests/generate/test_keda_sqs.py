"""KEDA's SQS trigger can reach the queue it watches: KEDA's aws-sqs-queue scaler reads the
queue's name from an SQS URL's path (/<account>/<name>, kedacore/keda
pkg/scalers/aws_sqs_queue_scaler.go) and needs AWS credentials, here the pod identity of a
TriggerAuthentication the trigger names."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from tests.generate.helpers import CONTROL, OPTIONS, by_kind, documents, generate, system
from tests.generate.test_brokers import SPEC, all_settings
from tests.generate.test_schemas import CRDS, crd_errors

from scalesim.generate import Target, render
from scalesim.generate.guide import readme
from scalesim.generate.keda import SQS_ACCOUNT
from scalesim.spec import System, load_spec_text

SQS = SPEC.format(tech="sqs", extra="", dlq_tech="sqs")
# TriggerAuthentication's podIdentity.provider enum (keda.sh_triggerauthentications.yaml)
PROVIDERS = {"azure-workload", "gcp", "aws", "aws-eks", "none"}


def _system() -> System:
    return load_spec_text(SQS)


@pytest.fixture(params=[Target.KEDA, Target.ARGO])
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """The worker's file of a target that writes its ScaledObject: keda/, or argo/ (aimed at
    the Rollout)."""
    (file,) = [f for f in render(_system(), request.param, OPTIONS)
               if f.path.endswith("/worker.yaml")]
    return documents([file])


def test_the_queue_url_names_the_sqs_queue_of_broker_json(objects: list[dict[str, Any]]) -> None:
    (trigger,) = by_kind(objects, "ScaledObject")["worker"]["spec"]["triggers"]
    assert trigger["type"] == "aws-sqs-queue" and "queueURLFromEnv" not in trigger["metadata"]
    url = urlparse(trigger["metadata"]["queueURL"])
    parts = url.path.split("/")
    assert url.scheme == "https" and len(parts) == 3 and parts[0] == "" and parts[1]
    assert url.hostname == f"sqs.{trigger['metadata']['awsRegion']}.amazonaws.com"
    assert parts[2] == all_settings(_system())["jobs"]["queue"]["QueueName"]


def test_the_trigger_authenticates_with_aws_pod_identity(objects: list[dict[str, Any]]) -> None:
    """The TriggerAuthentication is in keda/ once (the importer, like a reviewer, takes two
    copies of one object for a conflict); argo/'s ScaledObject, applied after, names it."""
    (trigger,) = by_kind(objects, "ScaledObject")["worker"]["spec"]["triggers"]
    keda = documents(render(_system(), Target.KEDA, OPTIONS))
    auth = by_kind(keda, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    assert auth["apiVersion"] == "keda.sh/v1alpha1"
    assert auth["metadata"]["namespace"] == OPTIONS.namespace
    assert auth["spec"]["podIdentity"]["provider"] == "aws" in PROVIDERS
    assert not by_kind(documents(render(_system(), Target.ARGO, OPTIONS)),
                       "TriggerAuthentication")


def test_the_scaled_object_validates(objects: list[dict[str, Any]]) -> None:
    if not CRDS.is_dir():
        pytest.skip(f"CRD schemas not found at {CRDS}")
    assert crd_errors(by_kind(objects, "ScaledObject")["worker"]) == []


def test_other_brokers_need_no_aws_authentication() -> None:
    docs = documents(generate(CONTROL, Target.KEDA))
    assert by_kind(docs, "ScaledObject") and not by_kind(docs, "TriggerAuthentication")
    assert all("authenticationRef" not in trigger for scaled in by_kind(
        docs, "ScaledObject").values() for trigger in scaled["spec"]["triggers"])


def test_the_readme_says_what_to_fill_in_for_sqs() -> None:
    sqs = readme(_system(), OPTIONS).content
    assert "`keda/worker.yaml`" in sqs and "TriggerAuthentication" in sqs
    assert f"/{SQS_ACCOUNT}/" in sqs and "sqs:GetQueueAttributes" in sqs
    assert "TriggerAuthentication" not in readme(system(CONTROL), OPTIONS).content
