"""An AWS API on this machine: moto's server bound to 127.0.0.1, started and stopped without leaks.

Used two ways:
- by the integration tests (`with MotoServer(account_id=...) as server:`), which replay the
  resources the program declares through boto3 and walk a product team's push path;
- by `make up-local` / `make down-local` through the CLI below
  (`python -m devtools.emulator start --port 31566 --state-dir .local-state`, `stop`),
  so the `local` stack's `pulumi up` has an AWS endpoint to talk to.

What the emulator proves: AWS's own API model (botocore's request shapes, moto's validators)
accepts every call and document we send. IAM validates identity policies (`CreatePolicy`,
`PutRolePolicy`) and trust policies (`UpdateAssumeRolePolicy`; moto's `CreateRole` checks
nothing, so the replay sends each trust policy through both), ECR validates lifecycle policies
and repository policies, and the resources can be read back unchanged.

What it cannot prove, so acceptance here is necessary, never sufficient:
- moto accepts documents AWS rejects: a trust policy statement without `Principal`, unknown
  condition operators or keys, an OIDC `sub` condition that trusts every GitHub repository,
  and it checks no IAM size quotas (the policy pack checks those);
- it does not verify web identity tokens or evaluate trust conditions: any JWT assumes any
  role that exists;
- it does not evaluate identity policies against ECR resource ARNs (its authorizer, when enabled,
  sees every ECR call as `Resource: "*"`), so "team A cannot push to team B's repository" is
  proved by the policy pack and the offline access report, not here;
- repository creation templates and pull-through cache rules are not implemented (HTTP 500),
  and KMS keys named in encryption settings are not looked up;
- image digests are derived from the manifest's layer digests, not from the manifest bytes,
  and a moved immutable tag is refused as ImageAlreadyExistsException (AWS:
  ImageTagAlreadyExistsException).

Each server is moto's own `ThreadedMotoServer`, hosted in a child process (`serve`): moto keeps its
backends and its `MOTO_ACCOUNT_ID` per process, so a process per server keeps every test's account and
resources its own, and lets the kernel stop it with its owner.

Safety: the server only ever binds to a loopback address, and `aws_environment()` gives every
process that talks to it fake credentials, no metadata service, no shared config, and no proxy
for loopback, so nothing can reach real AWS by accident.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

LOOPBACK = "127.0.0.1"
MOTO_DEFAULT_ACCOUNT = "123456789012"
TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"
# A path answered once moto's WSGI app is up; it lists every model, empty on a fresh server.
_HEALTH_PATH = "/moto-api/data.json"
PID_FILE = "moto.pid"
LOG_FILE = "moto.log"


class EmulatorError(RuntimeError):
    """The emulator could not be started or stopped; the message says why and what to do."""


def _require_loopback(host: str) -> None:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the emulator only binds to loopback addresses, not {host!r}")


def aws_environment(endpoint_url: str | None = None, region: str = "us-east-1",
                    base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment in which AWS SDKs and CLIs can only reach the emulator (or nothing).

    Fake static credentials, no profile or shared files, no EC2/ECS metadata lookups, no proxy
    for loopback, and (with `endpoint_url`) every service's endpoint set to the emulator.
    """
    env = dict(os.environ if base is None else base)
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        env.pop(key, None)
    env.update(
        AWS_ACCESS_KEY_ID=TEST_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=TEST_SECRET_KEY,
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    no_proxy = [p for p in env.get("NO_PROXY", env.get("no_proxy", "")).split(",") if p]
    for host in (LOOPBACK, "localhost"):
        if host not in no_proxy:
            no_proxy.append(host)
    env["NO_PROXY"] = env["no_proxy"] = ",".join(no_proxy)
    if endpoint_url is not None:
        _require_loopback(endpoint_url.split("//", 1)[-1].split(":", 1)[0])
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    """Whether something already accepts connections on `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _answers(url: str) -> bool:
    # No proxy handler: a loopback health check must never be sent through a proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + _HEALTH_PATH, timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _kill_group(pid: int, is_alive: Callable[[], bool], timeout: float = 5.0) -> None:
    """SIGTERM the process group led by `pid`, SIGKILL it if it is still there after `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not is_alive():
                return
            time.sleep(0.05)


def _pid_alive(pid: int) -> bool:
    """Whether `pid` (not necessarily our child) is running; a zombie counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1][:1]
    except OSError:
        return False
    return state != "Z"


ROOT = Path(__file__).resolve().parent.parent
# The child that hosts moto's own ThreadedMotoServer (see serve()); tests may swap it.
SERVE = ["-m", "devtools.emulator", "serve"]


def _first_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The first line `process` writes to stdout, or "" if it exits or stays silent for `timeout`."""
    found: list[bytes] = []
    reader = threading.Thread(target=lambda: found.append(process.stdout.readline()),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    reader.join(timeout)
    return found[0].decode(errors="replace").strip() if found else ""


def serve(host: str, port: int, die_with: int | None) -> None:
    """Run moto's ThreadedMotoServer on `host:port` in this process until it is signalled; print the
    port it listens on once it does. With `die_with`, the kernel stops it when that process dies
    (PR_SET_PDEATHSIG), and it does not start if that process is already gone."""
    _require_loopback(host)
    if die_with is not None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
        if os.getppid() != die_with:
            sys.exit(1)
    from moto.server import ThreadedMotoServer

    def fail(failure: threading.ExceptHookArgs) -> None:  # e.g. the port is taken: say so and exit, don't hang
        traceback.print_exception(failure.exc_type, failure.exc_value, failure.exc_traceback)
        os._exit(1)

    threading.excepthook = fail
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()  # returns once the socket is bound
    print(server.get_host_and_port()[1], flush=True)
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the reader may be gone: never write there
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Event().wait()


class MotoServer:
    """moto's ThreadedMotoServer on 127.0.0.1 in a child process of its own (its own process group,
    its own moto state and account); a context manager.

    `account_id` sets `MOTO_ACCOUNT_ID` for the server, so every ARN it makes names the stack's
    account (the program's documents name the stack's account, and moto's default is
    123456789012). `detached=True` leaves it running after this process exits (for the CLI);
    otherwise it is stopped on `stop()`, on leaving the `with` block, at interpreter exit, and by
    the kernel if this process dies first.
    """

    def __init__(self, port: int | None = None, *, host: str = LOOPBACK, account_id: str | None = None,
                 region: str = "us-east-1", log_path: Path | None = None, startup_timeout: float = 30.0,
                 detached: bool = False) -> None:
        _require_loopback(host)
        self.host = host
        self.requested_port = port
        self.port = port or 0
        self.account_id = account_id or MOTO_DEFAULT_ACCOUNT
        self.region = region
        self.startup_timeout = startup_timeout
        self.detached = detached
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        self._own_log = False
        self._clients: dict[str, Any] = {}
        self._session: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for `service` on this server with the fake credentials (override with kwargs).

        Clients share one boto3 session (which caches the service models: a client costs ~30ms
        instead of ~200ms), and those with the default options are made once per service.
        """
        import boto3
        from botocore.config import Config

        if not kwargs and service in self._clients:
            return self._clients[service]
        if self._session is None:
            self._session = boto3.session.Session()
        options: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": self.region,
            "aws_access_key_id": TEST_ACCESS_KEY,
            "aws_secret_access_key": TEST_SECRET_KEY,
            "config": Config(retries={"max_attempts": 1}, proxies={}),
        }
        options.update(kwargs)
        _require_loopback(str(options["endpoint_url"]).split("//", 1)[-1].rsplit(":", 1)[0])
        client = self._session.client(service, **options)
        if not kwargs:
            self._clients[service] = client
        return client

    def start(self) -> MotoServer:
        """Start the server and wait until it listens; `EmulatorError` (with its output) otherwise.

        Without a `port`, the server binds port 0 and reports the one the kernel gave it, so no other
        process can take it in between.
        """
        if self.requested_port and port_in_use(self.requested_port, self.host):
            raise EmulatorError(
                f"port {self.requested_port} on {self.host} is already in use, so the emulator cannot start there. "
                f"Stop whatever listens on it (`make down-local` if it is an earlier emulator; "
                f"`ss -ltnp 'sport = :{self.requested_port}'` shows the process) and try again."
            )
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="moto-", suffix=".log")
            os.close(fd)
            self.log_path, self._own_log = Path(name), True
        env = aws_environment(region=self.region)
        env["MOTO_ACCOUNT_ID"] = self.account_id
        env.pop("AWS_ENDPOINT_URL", None)
        env["PYTHONUNBUFFERED"] = "1"
        owner = [] if self.detached else ["--die-with", str(os.getpid())]
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *SERVE, "--host", self.host, "--port", str(self.requested_port or 0), *owner],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env, cwd=ROOT,
                start_new_session=True,  # its own process group: stop() kills everything it spawned
                close_fds=True,
            )
        if not self.detached:
            atexit.register(self.stop)
        line = _first_line(self.process, self.startup_timeout)
        if not line.isdigit():
            with contextlib.suppress(subprocess.TimeoutExpired):  # silent at exit: let it be reaped
                self.process.wait(timeout=1)
            code = self.process.poll()
            output = self._log_tail()
            self.stop()
            if code is not None:
                raise EmulatorError(f"the moto server exited with code {code} before listening on "
                                    f"{self.host}. Its output:\n{output}")
            raise EmulatorError(f"the moto server did not answer on {self.host} within "
                                f"{self.startup_timeout:.0f}s. Its output:\n{output}")
        self.port = int(line)
        self.startup_seconds = time.monotonic() - started
        return self

    def _log_tail(self, limit: int = 4000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no output)"
        text = self.log_path.read_text(errors="replace")
        return text[-limit:] or "(no output)"

    def stop(self) -> None:
        """Stop the server and its process group; safe to call twice."""
        process, self.process = self.process, None
        self._clients.clear()
        if process is not None:
            _kill_group(process.pid, lambda: process.poll() is None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        if self._own_log and self.log_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.log_path.unlink()
            self.log_path, self._own_log = None, False
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def reset(self) -> None:
        """Forget every resource (moto's reset API): a fresh account without a restart."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST", data=b"")
        with opener.open(request, timeout=5):
            pass

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# --- CLI: what `make up-local` / `make down-local` call -------------------------------------------


def _read_pid_file(state_dir: Path) -> dict[str, Any] | None:
    path = state_dir / PID_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None
    except ValueError:
        return None


def _is_our_server(pid: int) -> bool:
    """Whether `pid` is still a moto server (and not an unrelated process that reused the pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"devtools.emulator" in cmdline and b"serve" in cmdline and _pid_alive(pid)


def cli_start(port: int, state_dir: Path, account_id: str, timeout: float) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    recorded = _read_pid_file(state_dir)
    if recorded and recorded.get("port") == port and _is_our_server(recorded["pid"]) \
            and _answers(f"http://{LOOPBACK}:{port}"):
        print(f"emulator: already running on http://{LOOPBACK}:{port} (pid {recorded['pid']})")
        return 0
    server = MotoServer(port, account_id=account_id, log_path=state_dir / LOG_FILE,
                        startup_timeout=timeout, detached=True)
    try:
        server.start()
    except EmulatorError as error:
        print(f"emulator: {error}", file=sys.stderr)
        return 1
    assert server.process is not None
    (state_dir / PID_FILE).write_text(json.dumps({"pid": server.process.pid, "port": port,
                                                  "accountId": account_id}) + "\n")
    print(f"emulator: moto server answering on {server.endpoint_url} (pid {server.process.pid}, "
          f"account {account_id}, started in {server.startup_seconds:.1f}s, log {state_dir / LOG_FILE})")
    return 0


def cli_stop(state_dir: Path) -> int:
    recorded = _read_pid_file(state_dir)
    pid_file = state_dir / PID_FILE
    if recorded is None:
        print(f"emulator: not running (no {pid_file})")
        return 0
    pid = recorded["pid"]
    if _is_our_server(pid):
        _kill_group(pid, lambda: _pid_alive(pid))
        print(f"emulator: stopped the moto server (pid {pid})")
    else:
        print(f"emulator: pid {pid} from {pid_file} is no longer a moto server; nothing to stop")
    pid_file.unlink(missing_ok=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.emulator",
        description="Start or stop the local AWS emulator (moto server on 127.0.0.1).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start moto on 127.0.0.1:PORT, record its pid in STATE_DIR")
    start.add_argument("--port", type=int, required=True)
    start.add_argument("--state-dir", type=Path, default=Path(".local-state"))
    start.add_argument("--account-id", default=MOTO_DEFAULT_ACCOUNT,
                       help=f"the account every ARN names (default: moto's {MOTO_DEFAULT_ACCOUNT})")
    start.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for it to answer")
    stop = commands.add_parser("stop", help="stop the server recorded in STATE_DIR")
    stop.add_argument("--state-dir", type=Path, default=Path(".local-state"))
    hosted = commands.add_parser("serve", help="host the server in this process (what `start` runs in the background)")
    hosted.add_argument("--host", default=LOOPBACK)
    hosted.add_argument("--port", type=int, default=0, help="0: any free port (printed once listening)")
    hosted.add_argument("--die-with", type=int, help="stop when the process with this pid dies")
    args = parser.parse_args(argv)
    if args.command == "start":
        return cli_start(args.port, args.state_dir, args.account_id, args.timeout)
    if args.command == "serve":
        serve(args.host, args.port, args.die_with)
    return cli_stop(args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
