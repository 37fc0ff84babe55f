"""`nianbao serve` against a real `prefect server start` on a free loopback port: the deployment
and its cron schedule read back through the Prefect client, one triggered run completes and
loads data.  (~40 s: the server start dominates.)"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="nianbao-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")

from nianbao.demo.portal import start_portal  # noqa: E402
from nianbao.flows.warehouse import connect  # noqa: E402

NIANBAO = shutil.which("nianbao", path=str(Path(sys.executable).parent)) or "nianbao"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}: {last}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_UI_ENABLED="false")
    env.pop("PREFECT_API_URL", None)
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        with urllib.request.urlopen(api + "/health", timeout=2) as r:
            return r.status == 200

    try:
        wait_until(healthy, 90, "prefect server")
        yield api, home
    finally:
        stop(proc)
        log.close()


def test_serve_registers_a_cron_deployment_and_runs_it(server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api, home = server
    data = tmp_path / "data"
    with start_portal(seed=0, faults=False) as portal:
        registry = portal.write_registry(tmp_path / "registry.csv")
        env = dict(os.environ, PREFECT_API_URL=api, PREFECT_HOME=str(home))
        log = open(tmp_path / "serve.log", "wb")
        serve = subprocess.Popen(
            [NIANBAO, "serve", "--registry", str(registry), "--data", str(data),
             "--delay", "0.01", "--cron", "30 2 * * *", "--timezone", "Asia/Shanghai"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            with temporary_settings(updates={PREFECT_API_URL: api}):

                async def read():
                    async with get_client() as client:
                        return await client.read_deployment_by_name("nightly/nightly")

                import asyncio

                deployment = wait_until(lambda: asyncio.run(read()), 90, "the deployment")
                crons = [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules]
                assert crons == [("30 2 * * *", "Asia/Shanghai")]
                assert deployment.parameters["data"] == str(data.resolve())
                flow_run = run_deployment("nightly/nightly", timeout=240)
                assert flow_run.state.is_completed(), flow_run.state
        finally:
            stop(serve)
            log.close()
    con = connect(data)
    try:
        n_reports, n_facts = con.execute("SELECT count(*), sum(n_facts) FROM reports").fetchone()
        status = con.execute("SELECT status FROM runs").fetchall()
    finally:
        con.close()
    assert n_reports > 50 and n_facts > 10_000
    assert len(status) == 1 and status[0][0] in ("ok", "degraded")
