"""The task controller's part in the worker options: the per-namespace worker account created once (and again when
its namespace lost it), and a model from S3 signed at launch or refused before any pod."""

from __future__ import annotations

from typing import Any

from scribe_operator.kinds.task.storage import ModelSourceError
from scribe_operator.runtime.kube.client import ApiFailure

from tests.unit.task.test_controller import NS, FakeEffects, FakeStorage, Watch, make_controller


class Effects(FakeEffects):
    """Records every created object; can make the API refuse a pod whose service account does not exist."""

    def __init__(self, watch: Watch) -> None:
        super().__init__(watch)
        self.created: list[tuple[str, str]] = []
        self.accounts_lost = 0

    async def create(self, manifest: dict[str, Any]) -> bool:
        kind = manifest["kind"]
        if kind == "Pod" and self.accounts_lost:
            self.accounts_lost -= 1
            message = f'error looking up service account {NS}/scribe-worker: serviceaccount "scribe-worker" not found'
            raise ApiFailure(403, "Forbidden", f'pods "x" is forbidden: {message}')
        self.created.append((kind, manifest["metadata"]["name"]))
        return await super().create(manifest)


class ModelStorage(FakeStorage):
    def __init__(self, files: dict[str, str] | None) -> None:
        super().__init__()
        self.files = files

    async def presign_model(self, prefix: str, ttl_seconds: int) -> dict[str, str]:
        if self.files is None:
            raise ModelSourceError(f"modelSource.s3.prefix {prefix} lacks model files: model.bin")
        return self.files


def controller(storage: FakeStorage | None = None) -> tuple[Any, Effects, Watch]:
    watch = Watch()
    ctl, _, _ = make_controller(watch, storage, progress_reporting=True)
    effects = Effects(watch)
    ctl.effects = effects
    return ctl, effects, watch


async def test_the_worker_account_is_created_once_per_namespace() -> None:
    ctl, effects, watch = controller()
    for name in ("a", "b"):
        await ctl.reconcile_key(watch.add_task(name, age=10))
    kinds = [kind for kind, _ in effects.created]
    assert kinds.count("ServiceAccount") == 1 and kinds.count("Role") == 1 and kinds.count("RoleBinding") == 1
    assert kinds.index("RoleBinding") < kinds.index("Pod")
    assert [n for k, n in effects.created if k == "Pod"] == ["a-a1", "b-a1"]


async def test_a_namespace_that_lost_its_worker_account_gets_it_again() -> None:
    ctl, effects, watch = controller()
    await ctl.reconcile_key(watch.add_task("a", age=10))
    effects.accounts_lost = 1  # the namespace was deleted and made again since
    await ctl.reconcile_key(watch.add_task("b", age=10))
    kinds = [kind for kind, _ in effects.created]
    assert kinds.count("ServiceAccount") == 2 and watch.phase("b") == "Running"


async def test_a_model_from_s3_is_signed_into_the_attempts_secret() -> None:
    files = {"model.bin": "https://s3/m/model.bin?sig"}
    ctl, effects, watch = controller(ModelStorage(files))
    await ctl.reconcile_key(watch.add_task("m", age=10, modelSource={"s3": {"prefix": "s3://models/tiny/"}}))
    assert ("Secret", "m-a1-urls") in effects.created and watch.phase("m") == "Running"


async def test_a_model_prefix_without_a_model_is_dead_before_any_pod() -> None:
    ctl, effects, watch = controller(ModelStorage(None))
    await ctl.reconcile_key(watch.add_task("m", age=10, modelSource={"s3": {"prefix": "s3://models/none/"}}))
    status = watch.status("m")
    assert (status["phase"], status["reason"]) == ("Dead", "InvalidConfiguration")
    assert "lacks model files" in status["message"]
    assert not [n for k, n in effects.created if k in ("Pod", "Secret")]
