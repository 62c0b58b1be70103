import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_docker_compose_is_valid_and_complete():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"web", "worker", "beat", "db", "redis"}
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
    assert "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"] and "beat" in services["beat"]["command"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith(
            "redis://"
        )
    assert set(compose["volumes"]) >= {"pgdata", "redisdata", "media"}


QUEUES = {"sweep", "notifications", "exports", "celery"}


def test_docker_compose_runs_one_worker_per_queue():
    """Celery queues by kind (issue 21): each queue has its own worker service, so a large
    export never waits behind the sweep nor the sweep behind an export."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    consumed: dict[str, str] = {}
    for name, service in services.items():
        command = service.get("command")
        if not isinstance(command, str) or " worker " not in f" {command} ":
            continue
        queues = re.search(r"-Q (\S+)", command)
        assert queues, f"{name} consumes no named queue"
        for queue in queues[1].split(","):
            assert queue not in consumed, f"{queue} has two workers: {consumed.get(queue)}, {name}"
            consumed[queue] = name
        node = re.search(r"-n (\S+)@%h", command)
        assert node and f"-d {node[1]}@$$HOSTNAME" in " ".join(service["healthcheck"]["test"])
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
    assert set(consumed) == QUEUES
    assert set(consumed.values()) == {
        "worker",
        "worker-sweep",
        "worker-notifications",
        "worker-exports",
    }


def test_docker_compose_offers_a_streaming_replica_under_a_profile():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    replica = services["db-replica"]
    assert replica["profiles"] == ["replica"]
    assert "profiles" not in services["db"]  # the primary always runs
    assert replica["image"] == services["db"]["image"]
    script = replica["command"][-1]
    assert "pg_basebackup -h db -U replicator" in script and " -R " in script  # standby.signal
    assert "hot_standby=on" in script
    assert "pgreplica:/var/lib/postgresql/data" in replica["volumes"]
    assert replica["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthcheck" in replica and "pg_is_in_recovery" in replica["healthcheck"]["test"][1]
    # The primary: WAL for a standby, a replication role and its pg_hba line at initialisation.
    primary = services["db"]
    assert "wal_level=replica" in primary["command"]
    assert any(c.startswith("max_wal_senders=") for c in primary["command"])
    (mount,) = primary["configs"]
    assert mount["target"].startswith("/docker-entrypoint-initdb.d/")
    init = compose["configs"][mount["source"]]["content"]
    assert "WITH REPLICATION LOGIN" in init and "pg_create_physical_replication_slot" in init
    assert "host replication replicator" in init
    # The app reads DATABASE_REPLICA_URL (empty unless the profile's .env sets it), and waits
    # for the replica only when the profile runs it.
    for name in ("web", "worker", "worker-exports", "beat"):
        assert services[name]["environment"]["DATABASE_REPLICA_URL"] == "${DATABASE_REPLICA_URL:-}"
        assert services[name]["depends_on"]["db-replica"]["required"] is False
    assert "pgreplica" in compose["volumes"]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
