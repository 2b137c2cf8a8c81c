"""The plugin's access to the Kubernetes API (lightkube, sync), with every failure turned into a readable error.

Configuration as kubectl finds it: ``--kubeconfig``, else in-cluster service account, ``$KUBECONFIG``,
``~/.kube/config``; ``--context`` picks a context. Objects come back as plain dicts, as the API server sends them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final, Protocol

from lightkube import Client, KubeConfig
from lightkube.config.kubeconfig import SingleConfig
from lightkube.core.client import FieldSelector, LabelSelector
from lightkube.core.exceptions import ApiError, ConfigError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType

from scribe_operator.api.constants import CRD_NAME, GROUP, KIND, PLURAL, VERSION

TaskResource = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)
CLI_FIELD_MANAGER: Final = "kubectl-scribe"


class CliError(Exception):
    """An error the plugin reports as ``error: <message>`` and exit code 1."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class NotFound(CliError):
    """The object does not exist (anymore)."""


class CliConflict(CliError):
    """The object changed since it was read (optimistic concurrency)."""


class TaskApi(Protocol):
    """What the commands need from the cluster (a fake in unit tests, :class:`Cluster` for real)."""

    @property
    def namespace(self) -> str: ...

    def list_tasks(self, namespace: str | None, labels: LabelSelector) -> list[dict[str, Any]]:
        """Tasks in ``namespace`` (None: all namespaces) matching ``labels``."""
        ...

    def get_task(self, name: str, namespace: str) -> dict[str, Any] | None:
        """The task, or None if it does not exist."""
        ...

    def annotate_task(
        self, name: str, namespace: str, annotations: dict[str, str | None], resource_version: str | None
    ) -> dict[str, Any]:
        """Merge-patch annotations (None removes one) if the task is still at ``resource_version``."""
        ...

    def delete_task(self, name: str, namespace: str) -> bool:
        """Delete the task (its pods and secrets go with it); False if it was already gone."""
        ...

    def task_events(self, name: str, namespace: str) -> list[dict[str, Any]]:
        """Events whose involved object is the task."""
        ...


def _load_config(kubeconfig: str | None, context: str | None) -> SingleConfig:
    try:
        config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
    except ConfigError as exc:
        raise CliError(
            f"no cluster to talk to: {exc}. Point KUBECONFIG (or --kubeconfig) at a kubeconfig file, "
            "or run inside a cluster with a service account"
        ) from None
    except Exception as exc:  # a kubeconfig that is not YAML, or misses fields
        raise CliError(f"cannot read the kubeconfig: {type(exc).__name__}: {exc}") from None
    try:
        single = config.get(context_name=context)
    except ConfigError as exc:
        where = f" {config.fname}" if config.fname else ""
        raise CliError(f"no usable context in the kubeconfig{where}: {exc}") from None
    if single is None:
        raise CliError("no cluster to talk to: the kubeconfig has no usable context")
    return single


def connect(kubeconfig: str | None = None, context: str | None = None) -> Cluster:
    """A :class:`Cluster` for the configured cluster; CliError when there is no usable configuration."""
    config = _load_config(kubeconfig, context)
    try:
        client = Client(config, field_manager=CLI_FIELD_MANAGER)
    except Exception as exc:  # e.g. a certificate file the kubeconfig names is missing
        raise CliError(f"cannot set up a client for the cluster: {type(exc).__name__}: {exc}") from None
    return Cluster(client, config.cluster.server or "<unknown server>")


def _status_reason(exc: ApiError) -> str:
    status = exc.status
    return f"Error from server ({status.reason or status.code}): {status.message}"


class Cluster:
    """:class:`TaskApi` on a live cluster."""

    def __init__(self, client: Client, server: str) -> None:
        self.client, self.server = client, server

    @property
    def namespace(self) -> str:
        return str(self.client.namespace or "default")

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        """Translate API and connection failures of one call into CliErrors."""
        try:
            yield
        except ApiError as exc:
            code = int(exc.status.code or 0)
            if code == 404 and "the server could not find the requested resource" in str(exc.status.message):
                raise CliError(self._not_installed()) from None
            if code == 404:
                raise NotFound(_status_reason(exc)) from None
            if code == 409:
                raise CliConflict(_status_reason(exc)) from None
            raise CliError(f"{what}: {_status_reason(exc)}") from None
        except CliError:
            raise
        except Exception as exc:  # connection refused, TLS, timeouts: the HTTP library's errors
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
            if status == 404:  # a plain-text "404 page not found": the API group is not served at all
                raise CliError(self._not_installed()) from None
            if isinstance(status, int):  # an HTTP error without a Kubernetes Status body (a proxy, a load balancer)
                answer = f"HTTP {status} {getattr(response, 'reason_phrase', '') or ''}".rstrip()
                raise CliError(f"{what}: the cluster at {self.server} answered {answer}") from None
            raise CliError(f"cannot reach the cluster at {self.server}: {type(exc).__name__}: {exc}") from None

    def _not_installed(self) -> str:
        return (
            f"the cluster at {self.server} does not serve {PLURAL}.{GROUP}: the CRD {CRD_NAME} is not installed. "
            "Install the operator with its Helm chart (it installs the CRDs, see docs/install.md), "
            "or apply them: kubectl apply --server-side -f crds/"
        )

    def list_tasks(self, namespace: str | None, labels: LabelSelector) -> list[dict[str, Any]]:
        with self._call("listing tasks"):
            found = self.client.list(TaskResource, namespace=namespace or "*", labels=labels or None)
            return [_plain(t) for t in found]

    def get_task(self, name: str, namespace: str) -> dict[str, Any] | None:
        try:
            with self._call(f"reading task {namespace}/{name}"):
                return _plain(self.client.get(TaskResource, name, namespace=namespace))
        except NotFound:
            return None

    def annotate_task(
        self, name: str, namespace: str, annotations: dict[str, str | None], resource_version: str | None
    ) -> dict[str, Any]:
        patch: dict[str, Any] = {"metadata": {"annotations": annotations}}
        if resource_version:
            patch["metadata"]["resourceVersion"] = resource_version
        with self._call(f"annotating task {namespace}/{name}"):
            patched = self.client.patch(TaskResource, name, patch, namespace=namespace, patch_type=PatchType.MERGE)
            return _plain(patched)

    def delete_task(self, name: str, namespace: str) -> bool:
        try:
            with self._call(f"deleting task {namespace}/{name}"):
                self.client.delete(TaskResource, name, namespace=namespace)
        except NotFound:
            return False
        return True

    def task_events(self, name: str, namespace: str) -> list[dict[str, Any]]:
        fields: FieldSelector = {"involvedObject.name": name, "involvedObject.kind": KIND}
        with self._call(f"listing events of task {namespace}/{name}"):
            return [_plain(e) for e in self.client.list(Event, namespace=namespace, fields=fields)]


def _plain(obj: Any) -> dict[str, Any]:
    return dict(obj.to_dict()) if hasattr(obj, "to_dict") else dict(obj)
