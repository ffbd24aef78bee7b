"""`python -m devtools.github_ids`: GitHub's immutable IDs filled into a stack file, against a stub of
GitHub's REST API on 127.0.0.1 (never the network)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from components.config import load_settings
from devtools.github_ids import main
from engine.program import ROOT, load_stack_config

# What GET /repos/<owner>/<repo> answers (the fields the tool reads, as GitHub spells them).
REPOSITORIES = {
    "acme/dc43": {"id": 2000001, "name": "dc43", "owner": {"login": "acme", "id": 1000001}},
    "acme/idp": {"id": 2000002, "name": "idp", "owner": {"login": "acme", "id": 1000001}},
    "acme/old-name": {"id": 2000003, "name": "new-name", "owner": {"login": "acme", "id": 1000001}},
}

STACK = """\
# The payments stack: a comment the tool must keep.
config:
  aws:region: us-west-2
  ecr-platform:github:
    organizations: [acme]
  ecr-platform:teams:
    dc43:
      repositories: [contracts-app]
      github:
        - repository: acme/dc43        # release jobs only
          environments: [release]
    platform:
      repositories: [portal]
      github:
        - {repository: "acme/idp", branches: [main]}
        - repository: acme@1000001/web@2000009
          branches: [main]
        - repository: acme/*
          tags: ["v*"]
"""


class Stub(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        Stub.seen.append((self.path, self.headers.get("Authorization")))
        body = REPOSITORIES.get(self.path.removeprefix("/api/v3/repos/"))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body or {"message": "Not Found"}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    Stub.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()
    server.server_close()


def test_ids_are_filled_in_and_everything_else_is_kept(tmp_path: Path, api: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "read-only-token")
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(STACK)
    assert main([str(stack), "--api-url", api]) == 0
    expected = (STACK.replace("repository: acme/dc43        #", "repository: acme@1000001/dc43@2000001        #")
                .replace('repository: "acme/idp"', 'repository: "acme@1000001/idp@2000002"'))
    assert stack.read_text() == expected, "only the repository values may change"
    assert sorted(path for path, _ in Stub.seen) == ["/api/v3/repos/acme/dc43", "/api/v3/repos/acme/idp"], (
        "entries with IDs and organisation-wide entries need no look-up")
    assert {auth for _, auth in Stub.seen} == {"Bearer read-only-token"}
    config = {k.removeprefix("ecr-platform:"): v for k, v in load_stack_config(stack).items() if ":" in k
              and k.startswith("ecr-platform:")}
    settings = load_settings(config, "prod")
    assert settings.teams[0].github[0].repository_id == "2000001", "the result is a valid stack file"
    assert main([str(stack), "--api-url", api]) == 0 and len(Stub.seen) == 2, "a second run has nothing to do"


def test_a_repository_github_does_not_know_is_reported_and_the_others_are_filled(tmp_path: Path, api: str,
                                                                                  capsys: pytest.CaptureFixture[str]
                                                                                  ) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(STACK.replace("acme/idp", "acme/gone"))
    assert main([str(stack), "--api-url", api]) == 1
    out = capsys.readouterr().out
    assert "error: acme/gone: not found, or the token cannot see it" in out
    assert "acme/dc43 -> acme@1000001/dc43@2000001" in out
    assert "acme@1000001/dc43@2000001" in stack.read_text() and '"acme/gone"' in stack.read_text()


def test_a_renamed_repository_gets_github_s_current_name(tmp_path: Path, api: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(STACK.replace("acme/idp", "acme/old-name"))
    assert main([str(stack), "--api-url", api, "--dry-run"]) == 0
    assert "acme/old-name -> acme@1000001/new-name@2000003 (GitHub now calls it acme/new-name" in \
        capsys.readouterr().out
    assert stack.read_text() == STACK.replace("acme/idp", "acme/old-name"), "--dry-run writes nothing"


def test_the_command_runs_as_documented(tmp_path: Path, api: str) -> None:
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(STACK)
    run = subprocess.run([sys.executable, "-m", "devtools.github_ids", str(stack)], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "GITHUB_API_URL": api}, check=False)
    assert run.returncode == 0, run.stderr
    assert "acme/dc43 -> acme@1000001/dc43@2000001" in run.stdout
    assert {auth for _, auth in Stub.seen} == {None}, "no token, no Authorization header"
