"""pytest fixtures for tests on a real cluster (ours or the user's) and real S3."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace


def _require(var: str) -> str:
    value = os.environ.get(var)
    if not value:
        pytest.fail(
            f"{var} is not set: run `make cluster-up` and `source .cluster/env`, or point KUBECONFIG and AWS_* "
            "at your own cluster and S3 (see README)"
        )
    return value


@pytest.fixture(scope="session")
def kube() -> Client:
    _require("KUBECONFIG")
    return Client(field_manager="scribe-tests")


def make_namespace(kube: Client, prefix: str, labels: dict[str, str] | None = None) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"scribe.dev/test": "true", **(labels or {})})))
    return name


def delete_namespace(kube: Client, name: str) -> None:
    try:
        kube.delete(Namespace, name)
    except ApiError as exc:
        if exc.status.code != 404:
            raise


@pytest.fixture
def namespace(kube: Client, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards."""
    name = make_namespace(kube, request.node.name.split("[")[0].replace("_", "-")[:40].strip("-"))
    yield name
    delete_namespace(kube, name)
