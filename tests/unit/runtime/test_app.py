"""One startup: the app builds one settings object, one API client and one S3 client, starts every registered kind
over them, and gives kopf one registry (login and each kind's handlers, bound to its controller) and the
settings it ran with before."""

from __future__ import annotations

import logging
from typing import Any

import kopf
from prometheus_client import CollectorRegistry
from scribe_operator.app import UNUSED_FINALIZER, App
from scribe_operator.kinds.batch.handlers import BatchWiring
from scribe_operator.kinds.registry import APIS, KINDS
from scribe_operator.kinds.task.handlers import POD_LABEL_SELECTOR, POD_SELECTOR, TaskWiring
from scribe_operator.runtime import kopftuning
from scribe_operator.runtime.kube.effects import resource_of
from scribe_operator.runtime.settings import OperatorSettings

from tests.unit.task.factories import operator_settings

API: Any = object()  # stand-ins: nothing is called before kopf runs
S3: Any = object()


def app(settings: OperatorSettings | None = None) -> App:
    return App.create(settings or OperatorSettings(), api=API, s3=S3)


def test_every_registered_kind_starts_over_the_one_api_and_s3_client() -> None:
    started = app(operator_settings(batch_max_creates_per_pass=7, notification_allow_http=True))
    assert list(started.kinds) == [kind.name for kind in KINDS] == ["task", "batch"]
    task, batch = started.kinds["task"], started.kinds["batch"]
    assert isinstance(task, TaskWiring) and isinstance(batch, BatchWiring)
    assert task.controller.effects.client is API and batch.controller.effects.client is API
    assert task.controller.storage.client is S3 and batch.controller.storage.client is S3
    assert task.controller.settings is started.settings
    assert batch.controller.settings.max_creates_per_pass == 7
    assert task.controller.notifier.allow_http and batch.controller.notifier.allow_http
    assert tuple(kind.api for kind in KINDS) == APIS


def test_two_apps_share_no_state() -> None:
    first, second = app(), app()
    assert first.kinds["task"].controller is not second.kinds["task"].controller  # type: ignore[attr-defined]


def test_the_registry_holds_login_and_every_kinds_handlers_bound_to_its_controller() -> None:
    started = app()
    registry = started.kopf_registry()
    indices = {h.id for h in registry._indexing.get_all_handlers()}
    events = {h.id: h.fn for h in registry._watching.get_all_handlers()}
    activities = {h.id for h in registry._activities.get_all_handlers()}
    assert indices == {"task_index", "pod_index", "batch_index", "batch_child_index"}
    assert set(events) == {"task_event", "pod_event", "batch_event", "batch_child_event"}
    assert activities == {"login"}  # no startup handler: the app is built before kopf starts
    task = started.kinds["task"]
    assert getattr(events["task_event"], "__self__", None) is task
    assert kopf.OperatorRegistry() is not registry and not kopf.get_default_registry()._watching.get_all_handlers()


def test_kopf_runs_with_the_settings_it_always_had() -> None:
    settings = app().kopf_settings()
    assert settings.persistence.finalizer == UNUSED_FINALIZER
    assert settings.posting.level == logging.WARNING
    assert (settings.watching.server_timeout, settings.watching.client_timeout) == (300, 330)
    assert settings.peering.standalone and settings.scanning.disabled
    assert isinstance(settings.persistence.diffbase_storage, kopftuning.NoDiffBase)
    assert settings.watching.label_selectors[POD_SELECTOR] == POD_LABEL_SELECTOR


def test_the_kinds_collectors_read_their_watch_caches() -> None:
    started = app()
    registry = CollectorRegistry()
    started.register_collectors(registry)
    assert registry.get_sample_value("scribe_tasks", {"namespace": "media", "phase": "Running"}) is None
    task = started.kinds["task"]
    assert isinstance(task, TaskWiring)
    task.objects = {("media", "a"): [{"status": {"phase": "Running"}}]}  # type: ignore[assignment]
    assert registry.get_sample_value("scribe_tasks", {"namespace": "media", "phase": "Running"}) == 1
    assert registry.get_sample_value("scribe_running_attempts", {"namespace": "media"}) is None


def test_the_effects_know_every_registered_kinds_resource() -> None:
    for api in APIS:
        api_version, plural = resource_of(api.kind)
        assert plural == api.plural and api_version == f"{api.group}/{api.version}"
