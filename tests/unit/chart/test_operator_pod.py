"""The operator's pod as the chart renders it: restricted, probed, its settings in its environment, and the network
policy and admission policy around the workers it starts.
"""

from __future__ import annotations

from scribe_operator.runtime.settings import OperatorSettings

from tests.unit.chart.rendering import (
    CHART,
    RELEASE,
    assert_restricted,
    env_of,
    of_kind,
    one,
    operator_container,
    render,
    run_helm,
    set_args,
)

# --- pod security -----------------------------------------------------------------------------------------------


def test_operator_pod_is_restricted(helm: str) -> None:
    docs = render()
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert_restricted(spec)
    assert spec["securityContext"]["runAsUser"] == 65532
    container = operator_container(docs)
    assert container["securityContext"]["runAsUser"] == 65532
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in spec["volumes"]


def test_probes_and_ports(helm: str) -> None:
    container = operator_container(render())
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": 8080, "metrics": 9090}
    env = env_of(container)
    assert (env["SCRIBE_HEALTH_PORT"], env["SCRIBE_METRICS_PORT"]) == ("8080", "9090")


def test_metrics_service(helm: str) -> None:
    docs = render({"metrics.service.labels.team": "audio"})
    service = one(docs, "Service")
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}]
    assert service["spec"]["selector"] == {
        "app.kubernetes.io/name": "scribe-operator",
        "app.kubernetes.io/instance": RELEASE,
    }
    assert service["metadata"]["labels"]["team"] == "audio"
    assert service["metadata"]["labels"]["app.kubernetes.io/component"] == "metrics"
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert not of_kind(render({"metrics.service.enabled": "false"}), "Service")


# --- environment ------------------------------------------------------------------------------------------------


def test_s3_from_an_existing_secret(helm: str) -> None:
    env = env_of(
        operator_container(
            render(
                {
                    "s3.endpoint": "http://minio.storage:9000",
                    "s3.region": "eu-west-1",
                    "s3.addressingStyle": "path",
                    "s3.existingSecret": "s3-creds",
                    "s3.accessKeyIdKey": "user",
                }
            )
        )
    )
    assert env["AWS_ENDPOINT_URL"] == "http://minio.storage:9000"
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["SCRIBE_S3_ADDRESSING_STYLE"] == "path"
    assert env["AWS_ACCESS_KEY_ID"] == {"secretKeyRef": {"name": "s3-creds", "key": "user"}}
    assert env["AWS_SECRET_ACCESS_KEY"] == {"secretKeyRef": {"name": "s3-creds", "key": "secretAccessKey"}}


def test_no_static_credentials_by_default(helm: str) -> None:
    env = env_of(operator_container(render()))
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION"} & set(env)
    docs = render()
    assert not of_kind(docs, "Secret")


ALL_SETTINGS = {
    "settings.attemptOverheadSeconds": "90",
    "settings.secondsPerMib": "12.5",
    "settings.minAttemptSeconds": "120",
    "settings.maxAttemptSeconds": "10000000",
    "settings.podLostGraceSeconds": "30",
    "settings.deadlineGraceSeconds": "45",
    "settings.urlTtlMarginSeconds": "600",
    "settings.defaultMemoryLimit": "3Gi",
    "settings.oomMemoryFactor": "1.5",
    "settings.maxMemoryLimit": "32Gi",
    "settings.workerRunAsUser": "1000",
    "settings.logFormat": "text",
    "settings.maxRunningAttempts": "20",
    "settings.maxRunningAttemptsPerNamespace": "4",
    "settings.breakerThreshold": "8",
    "settings.breakerWindowSeconds": "90",
    "settings.breakerCooldownSeconds": "12.5",
    "leaderElection.leaseSeconds": "12",
    "worker.image.pullPolicy": "Always",
}


def test_settings_become_scribe_environment(helm: str) -> None:
    env = env_of(operator_container(render(ALL_SETTINGS)))
    assert env["SCRIBE_SECONDS_PER_MIB"] == "12.5"
    assert env["SCRIBE_MAX_ATTEMPT_SECONDS"] == "10000000"  # not 1e+07
    assert env["SCRIBE_DEFAULT_MEMORY_LIMIT"] == "3Gi"
    assert env["SCRIBE_OOM_MEMORY_FACTOR"] == "1.5"
    assert env["SCRIBE_LOG_FORMAT"] == "text"
    assert env["SCRIBE_WORKER_IMAGE_PULL_POLICY"] == "Always"
    unset = env_of(operator_container(render()))
    assert "SCRIBE_MAX_MEMORY_LIMIT" not in unset  # null: the operator's default


def test_every_scribe_variable_is_an_operator_setting(helm: str) -> None:
    """The chart sets no SCRIBE_* variable the operator would silently ignore."""
    env = env_of(operator_container(render({**ALL_SETTINGS, "replicaCount": "2"})))
    names = {n for n in env if n.startswith("SCRIBE_")}
    known = {
        variable
        for _, section in OperatorSettings.sections()
        for field in section.model_fields
        for variable in section.env_names(field)
    }
    assert len(names) > 15
    assert names <= known, names - known
    settings = OperatorSettings.from_environ(env)
    assert settings.task.max_attempt_seconds == 10_000_000 and settings.leader_election.enabled
    assert settings.leader_election.lease_seconds == 12
    assert (settings.capacity.max_running_attempts, settings.capacity.max_running_attempts_per_namespace) == (20, 4)
    breaker = settings.breaker
    assert (breaker.threshold, breaker.window_seconds, breaker.cooldown_seconds) == (8, 90, 12.5)


def test_extra_env_is_appended(helm: str) -> None:
    env = env_of(
        operator_container(render({"extraEnv:json": '[{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}]'}))
    )
    assert env["HTTPS_PROXY"] == "http://proxy:3128"


# --- network policy ---------------------------------------------------------------------------------------------


def test_network_policy_for_workers(helm: str) -> None:
    assert not of_kind(render(), "NetworkPolicy")
    docs = render(
        {
            "networkPolicy.enabled": "true",
            "watchNamespaces": "{media,podcasts}",
            "networkPolicy.s3Cidrs": "{10.1.2.3/32}",
            "networkPolicy.s3Ports": "{9000}",
        }
    )
    policies = of_kind(docs, "NetworkPolicy")
    assert sorted(p["metadata"]["namespace"] for p in policies) == ["media", "podcasts"]
    for policy in policies:
        spec = policy["spec"]
        assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "scribe-worker"}}
        assert spec["policyTypes"] == ["Ingress", "Egress"] and spec["ingress"] == []
        dns, s3 = spec["egress"]
        assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
        assert s3 == {"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}], "ports": [{"protocol": "TCP", "port": 9000}]}


def test_network_policy_cluster_wide_needs_namespaces(helm: str) -> None:
    values = {"networkPolicy.enabled": "true", "networkPolicy.s3Cidrs": "{0.0.0.0/0}"}
    proc = run_helm("template", RELEASE, str(CHART), *set_args(values), check=False)
    assert proc.returncode != 0 and "networkPolicy.namespaces" in proc.stderr
    docs = render({**values, "networkPolicy.namespaces": "{jobs}"})
    assert [p["metadata"]["namespace"] for p in of_kind(docs, "NetworkPolicy")] == ["jobs"]


# --- the workers' progress credential ---------------------------------------------------------------------------


def test_worker_progress_policy_narrows_the_worker_account(helm: str) -> None:
    docs = render({"settings.workerServiceAccount": "transcriber", "settings.stallTimeoutSeconds": "600"})
    policy = one(docs, "ValidatingAdmissionPolicy")
    binding = one(docs, "ValidatingAdmissionPolicyBinding")
    assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}
    (match,) = policy["spec"]["matchConditions"]
    assert "':transcriber'" in match["expression"] and "system:serviceaccount:" in match["expression"]
    assert policy["spec"]["failurePolicy"] == "Fail"
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    assert rules[0]["resources"] == ["pods", "pods/*"] and {"CREATE", "UPDATE"} <= set(rules[0]["operations"])
    messages = " ".join(v["message"] for v in policy["spec"]["validations"])
    for what in ("the pod it is bound to", "spec", "labels", "no annotation but scribe.dev/progress", "owners"):
        assert what in messages
    env = env_of(operator_container(docs))
    assert (env["SCRIBE_WORKER_SERVICE_ACCOUNT"], env["SCRIBE_STALL_TIMEOUT_SECONDS"]) == ("transcriber", "600")
    assert env["SCRIBE_PROGRESS_REPORTING"] == "true"  # the credential goes with the policy that narrows it
    without = render({"workerProgressPolicy.install": "false"})
    assert not of_kind(without, "ValidatingAdmissionPolicy")
    assert env_of(operator_container(without))["SCRIBE_PROGRESS_REPORTING"] == "false"


def test_network_policy_lets_workers_report_progress_to_the_api_server(helm: str) -> None:
    docs = render(
        {
            "networkPolicy.enabled": "true",
            "watchNamespaces": "{media}",
            "networkPolicy.s3Cidrs": "{10.1.2.3/32}",
            "networkPolicy.apiServerCidrs": "{10.96.0.1/32}",
            "networkPolicy.apiServerPorts": "{443}",
        }
    )
    _, _, api = one(docs, "NetworkPolicy")["spec"]["egress"]
    assert api == {"to": [{"ipBlock": {"cidr": "10.96.0.1/32"}}], "ports": [{"protocol": "TCP", "port": 443}]}
