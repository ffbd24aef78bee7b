"""The emulator itself: loopback only, answers before it is handed out, and never outlives its owner."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from devtools import emulator
from devtools.emulator import EmulatorError, MotoServer, aws_environment, free_port

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not emulator._pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp writes them) of sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_it_listens_on_127_0_0_1_only_and_answers_once_started():
    with MotoServer() as server:
        assert server.startup_seconds is not None and server.startup_seconds < 15
        assert _listening_addresses(server.port) == {"0100007F"}, "the emulator must listen on 127.0.0.1 only"
        assert server.client("sts").get_caller_identity()["Account"] == emulator.MOTO_DEFAULT_ACCOUNT


def test_it_refuses_to_bind_anything_but_loopback():
    with pytest.raises(ValueError, match="loopback"):
        MotoServer(host="0.0.0.0")
    with pytest.raises(ValueError, match="loopback"):
        aws_environment("http://10.0.0.1:4566")
    with pytest.raises(ValueError, match="loopback"):
        MotoServer(port=1).client("ecr", endpoint_url="http://192.0.2.1:443")


def test_the_account_id_names_every_arn():
    with MotoServer(account_id="210987654321", region="us-west-2") as server:
        repository = server.client("ecr").create_repository(repositoryName="acct/check")["repository"]
        assert repository["repositoryArn"] == "arn:aws:ecr:us-west-2:210987654321:repository/acct/check"


def test_stop_leaves_no_process_behind():
    server = MotoServer().start()
    assert server.process is not None
    pid = server.process.pid
    server.stop()
    assert _gone(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    server.stop()  # twice is fine


def test_a_test_process_killed_outright_takes_its_server_along(tmp_path):
    """SIGKILL skips atexit and `with`; the kernel's parent-death signal still stops the server."""
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent("""
            import os, signal
            from devtools.emulator import MotoServer
            server = MotoServer().start()
            print(server.process.pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """)],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )
    assert child.returncode == -signal.SIGKILL
    assert _gone(int(child.stdout.strip())), "the server outlived the process that started it"


def test_a_server_that_exits_early_is_reported_with_its_output():
    port = free_port()
    with socket.socket() as holder:  # bound, not listening: looks free, but moto cannot bind it
        holder.bind(("127.0.0.1", port))
        with pytest.raises(EmulatorError) as error:
            MotoServer(port).start()
    assert "exited with code" in str(error.value)
    assert "Address already in use" in str(error.value), "the server's own output must be in the message"


def test_a_port_it_picked_itself_and_lost_to_a_race_is_picked_again(monkeypatch):
    taken = free_port()
    ports = iter([taken])
    monkeypatch.setattr(emulator, "free_port", lambda host="127.0.0.1": next(ports, 0) or free_port(host))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        with MotoServer() as server:
            assert server.port != taken
            assert server.client("sts").get_caller_identity()["Account"]


def test_a_server_that_never_answers_is_stopped_and_reported(monkeypatch):
    monkeypatch.setattr(emulator, "SERVE", ["-c", "import time; time.sleep(60)"])
    server = MotoServer(startup_timeout=1)
    with pytest.raises(EmulatorError, match=r"did not answer .* within 1s"):
        server.start()
    assert server.process is None


def test_a_taken_port_is_refused_before_anything_starts():
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = MotoServer(port)
        with pytest.raises(EmulatorError, match=f"port {port} on 127.0.0.1 is already in use"):
            server.start()
    assert server.process is None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devtools.emulator", *args], capture_output=True,
                          text=True, timeout=60, check=False, cwd=ROOT)


def test_cli_start_is_idempotent_and_stop_stops_it(tmp_path):
    port = free_port()
    try:
        first = _cli("start", "--port", str(port), "--state-dir", str(tmp_path))
        assert first.returncode == 0, first.stderr
        pid = json.loads((tmp_path / "moto.pid").read_text())["pid"]
        again = _cli("start", "--port", str(port), "--state-dir", str(tmp_path))
        assert again.returncode == 0 and "already running" in again.stdout
    finally:
        stop = _cli("stop", "--state-dir", str(tmp_path))
    assert stop.returncode == 0 and f"stopped the moto server (pid {pid})" in stop.stdout
    assert _gone(pid)
    assert not (tmp_path / "moto.pid").exists()
    assert "not running" in _cli("stop", "--state-dir", str(tmp_path)).stdout


def test_cli_stop_never_kills_a_process_that_reused_the_pid(tmp_path):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        (tmp_path / "moto.pid").write_text(json.dumps({"pid": bystander.pid, "port": 1}))
        stop = _cli("stop", "--state-dir", str(tmp_path))
        assert "no longer a moto server" in stop.stdout
        assert bystander.poll() is None, "stop killed an unrelated process"
        assert not (tmp_path / "moto.pid").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_client_environment_reaches_nothing_but_the_emulator():
    env = aws_environment("http://127.0.0.1:31566", base={"AWS_PROFILE": "prod-admin", "AWS_SESSION_TOKEN": "x"})
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["AWS_ACCESS_KEY_ID"] == "testing" and env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:31566"
    assert "127.0.0.1" in env["NO_PROXY"].split(",")
