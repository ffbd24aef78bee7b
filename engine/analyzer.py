"""A small client for a Pulumi policy pack, over the analyzer gRPC protocol the Pulumi CLI speaks.

It starts the pack as the CLI does (`python -u __main__.py` in the pack's directory, the port on
the first line of stdout), then offers `info()`, `configure()`, `analyze()` and `analyze_stack()`
returning plain dataclasses. Use it as a context manager: the pack process is always killed.

    with PolicyPackClient(Path("policy")) as pack:
        pack.configure(json.loads(Path("policy/config/prod.json").read_text()))
        for violation in pack.analyze_stack(resources):
            print(violation.policy, violation.message)

Property values are plain Python; pass `UNKNOWN` where the engine would not know a value yet
(first preview), and it is sent in Pulumi's wire format.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2, json_format, message_factory, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from .resource import Resource, default_urn

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Pulumi's wire encoding of a value unknown during preview."""

ENFORCEMENT_LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
_LEVEL_NAMES = {v: k for k, v in ENFORCEMENT_LEVELS.items()}
_STARTUP_TIMEOUT = 60.0
IN_FLIGHT = 8
"""Analyze calls outstanding at once (the pack serves four at a time; more only queue)."""
EACH_METHOD = "/ecrplatform.guard.Analyzer/AnalyzeEach"
EACH_CHUNK = 500
"""Requests per `AnalyzeEach` call at most: the pack judges one chunk while the next is encoded and sent."""
EACH_CHUNK_BYTES = 32 * 1024 * 1024
"""Encoded bytes per `AnalyzeEach` call at most (a request bigger than that goes alone): far below the 400 MiB
both sides accept, whatever the resources carry."""


def _chunks(requests: Sequence[Any]) -> Iterable[list[Any]]:
    """`requests` in order, in runs of at most EACH_CHUNK requests and EACH_CHUNK_BYTES encoded bytes."""
    chunk: list[Any] = []
    size = 0
    for request in requests:
        length = request.ByteSize()
        if chunk and (len(chunk) >= EACH_CHUNK or size + length > EACH_CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(request)
        size += length
    if chunk:
        yield chunk


def analyze_each_types() -> tuple[Any, Any]:
    """The messages of our pack's `AnalyzeEach` (policy/rules/serving.py defines the same two in the pack's
    process): `AnalyzeEachRequest {repeated pulumirpc.AnalyzeRequest requests = 1}` and `AnalyzeEachResponse
    {repeated pulumirpc.AnalyzeResponse responses = 1}`."""
    pool = descriptor_pool.Default()
    try:
        pool.FindMessageTypeByName("ecrplatform.guard.AnalyzeEachRequest")
    except KeyError:
        proto = descriptor_pb2.FileDescriptorProto(name="ecrplatform/guard/analyze_each.proto",
                                                   package="ecrplatform.guard", syntax="proto3",
                                                   dependency=[analyzer_pb2.DESCRIPTOR.name])
        for name, field, item in (("AnalyzeEachRequest", "requests", "AnalyzeRequest"),
                                  ("AnalyzeEachResponse", "responses", "AnalyzeResponse")):
            proto.message_type.add(name=name).field.add(
                name=field, number=1, label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
                type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE, type_name=f".pulumirpc.{item}")
        pool.Add(proto)
    return tuple(message_factory.GetMessageClass(pool.FindMessageTypeByName(f"ecrplatform.guard.{name}"))
                 for name in ("AnalyzeEachRequest", "AnalyzeEachResponse"))  # type: ignore[return-value]


@dataclass(frozen=True)
class Violation:
    """One diagnostic from the pack: what the tests assert on and the check reports."""

    policy: str
    enforcement: str
    """`mandatory`, `advisory`, `disabled` or `remediate`."""
    message: str
    urn: str = ""

    @property
    def resource(self) -> str:
        """The resource's logical name (the URN's last part), or `stack` for stack-level findings."""
        return self.urn.rsplit("::", 1)[-1] if self.urn else "stack"

    def __str__(self) -> str:
        where = f" [{self.urn}]" if self.urn else ""
        return f"{self.enforcement.upper()} {self.policy}{where}: {self.message}"


@dataclass(frozen=True)
class PolicyDescription:
    name: str
    description: str
    enforcement_level: str
    config_schema: dict[str, Any]
    severity: int
    remediation_steps: str


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    supports_config: bool
    policies: list[PolicyDescription]


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """`props` as a protobuf Struct: directly (six times faster), or through JSON where a value is not JSON's own
    type (a key that is not a string, a value JSON turns into one of its types)."""
    message = struct_pb2.Struct()
    try:
        message.update(props)
    except (TypeError, ValueError):
        message = struct_pb2.Struct()
        json_format.ParseDict(json.loads(json.dumps(props)), message)
    return message


def analyze_request(resource: Resource) -> analyzer_pb2.AnalyzeRequest:
    """The Analyze request the engine sends for one resource."""
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type, properties=_struct(resource.inputs), urn=resource.resolved_urn,
        name=resource.name,
        options=analyzer_pb2.AnalyzerResourceOptions(protect=resource.protect, parent=resource.parent),
    )


def analyze_stack_request(resources: Iterable[Resource]) -> analyzer_pb2.AnalyzeStackRequest:
    """The AnalyzeStack request the engine sends once: every resource with parents and dependencies."""
    request = analyzer_pb2.AnalyzeStackRequest()
    for r in resources:
        message = analyzer_pb2.AnalyzerResource(
            type=r.type, properties=_struct(r.state), urn=r.resolved_urn, name=r.name, parent=r.parent,
            options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, parent=r.parent),
            dependencies=list(r.dependencies),
        )
        for key, urns in r.property_dependencies.items():
            message.propertyDependencies[key].CopyFrom(analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns)))
        request.resources.append(message)
    return request


class PolicyPackClient:
    """A running policy pack process and a gRPC channel to it."""

    def __init__(self, pack_dir: Path | str, python: str | None = None, env: Mapping[str, str] | None = None,
                 analyze_each: bool = False) -> None:
        """`analyze_each`: ask for many resources' Analyze in one `AnalyzeEach` call where the pack offers it
        (ours does, policy/rules/serving.py; the CLI never asks), else per resource as the CLI does. Off by
        default: tests speak the protocol the CLI speaks."""
        self.pack_dir = Path(pack_dir).resolve()
        self._analyze_each = analyze_each
        self._python = python or sys.executable
        self._env = dict(os.environ if env is None else env)
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr: list[bytes] = []

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> PolicyPackClient:
        self._process = subprocess.Popen(
            [self._python, "-u", "__main__.py"], cwd=self.pack_dir, env=self._env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_receive_message_length", 400 * 1024 * 1024),
            ("grpc.max_send_message_length", 400 * 1024 * 1024),
        ])
        grpc.channel_ready_future(self._channel).result(timeout=_STARTUP_TIMEOUT)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self

    def _drain_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line)

    def _read_port(self) -> int:
        assert self._process is not None and self._process.stdout is not None
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(self._process.stdout.readline()),  # type: ignore[union-attr]
                                  daemon=True)
        reader.start()
        reader.join(_STARTUP_TIMEOUT)
        line = result[0].strip() if result else b""
        if not line.isdigit():
            self.close()
            raise RuntimeError(f"policy pack in {self.pack_dir} did not start (first line {line!r}):\n{self.stderr}")
        return int(line)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode(errors="replace")

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> PolicyPackClient:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise RuntimeError("the policy pack is not running; call start() or use it as a context manager")
        return self._stub

    # --- protocol ---------------------------------------------------------------------------------

    def info(self) -> PackInfo:
        reply = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        return PackInfo(
            name=reply.name, version=reply.version, supports_config=reply.supportsConfig,
            policies=[PolicyDescription(
                name=p.name, description=p.description, enforcement_level=_LEVEL_NAMES[p.enforcementLevel],
                config_schema=json_format.MessageToDict(p.configSchema), severity=p.severity,
                remediation_steps=p.remediation_steps,
            ) for p in reply.policies],
        )

    def plugin_version(self) -> str:
        return str(self.stub.GetPluginInfo(empty_pb2.Empty()).version)

    def configure(self, config: Mapping[str, Mapping[str, Any] | str]) -> None:
        """Send a `--policy-pack-config` document: {policy: {enforcementLevel, <prop>: value} | level}."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy, value in config.items():
            entry = {"enforcementLevel": value} if isinstance(value, str) else dict(value)
            level = entry.pop("enforcementLevel", "mandatory")
            request.policyConfig[policy].CopyFrom(analyzer_pb2.PolicyConfig(
                enforcementLevel=ENFORCEMENT_LEVELS[level], properties=_struct(entry)))
        self.stub.Configure(request)

    def analyze(self, type_: str, props: Mapping[str, Any], urn: str = "", name: str = "",
                protect: bool = False, parent: str = "") -> list[Violation]:
        return self.analyze_resource(Resource(type_, name or "resource", dict(props), urn, parent, protect))

    def analyze_resource(self, resource: Resource) -> list[Violation]:
        return self._violations(self.stub.Analyze(analyze_request(resource)))

    def analyze_stack(self, resources: Iterable[Resource]) -> list[Violation]:
        return self._violations(self.stub.AnalyzeStack(analyze_stack_request(resources)))

    def analyze_all(self, resources: Sequence[Resource],
                    known: dict[bytes, list[Violation]] | None = None) -> list[Violation]:
        """What the CLI does for a whole preview: Analyze per custom resource (its inputs), then AnalyzeStack
        once (every resource's final state). `known`: see `analyze_requests`."""
        requests = [analyze_request(r) for r in resources if r.custom]
        return self.analyze_requests(requests, known) + self.analyze_stack(resources)

    def analyze_requests(self, requests: Iterable[analyzer_pb2.AnalyzeRequest],
                         known: dict[bytes, list[Violation]] | None = None) -> list[Violation]:
        """Analyze for each request, in order. A resource policy's diagnostic carries no URN: the engine knows
        which resource it asked about, so it names that one.

        `known` maps a request's deterministic encoding to its violations. A resource policy sees nothing but the
        request, so a pack asked the same bytes answers the same: a request found there is not sent again, and
        every reply is added (the base and the head of a pull request share most resources)."""
        requests = list(requests)
        if known is None:
            return [v for request, reply in zip(requests, self._analyze(requests), strict=True)
                    for v in self._named(request, reply)]
        return self._answer([r.SerializeToString(deterministic=True) for r in requests], known, requests)

    def analyze_encoded(self, encoded: Sequence[bytes],
                        known: dict[bytes, list[Violation]] | None = None) -> list[Violation]:
        """`analyze_requests` for requests given in their deterministic encoding (`known`'s keys): only those
        `known` does not answer are decoded and sent."""
        return self._answer(list(encoded), {} if known is None else known)

    def _answer(self, keys: list[bytes], known: dict[bytes, list[Violation]],
                requests: Sequence[analyzer_pb2.AnalyzeRequest] | None = None) -> list[Violation]:
        """The violations of each encoded request (`requests`: the same, decoded), asking the pack only what
        `known` lacks, once per distinct request, and adding its answers to `known`."""
        asked: dict[bytes, analyzer_pb2.AnalyzeRequest] = {}
        for index, key in enumerate(keys):
            if key not in known and key not in asked:
                asked[key] = requests[index] if requests is not None else analyzer_pb2.AnalyzeRequest.FromString(key)
        for (key, request), reply in zip(asked.items(), self._analyze(list(asked.values())), strict=True):
            known[key] = self._named(request, reply)
        return [v for key in keys for v in known[key]]

    @classmethod
    def _named(cls, request: analyzer_pb2.AnalyzeRequest, reply: analyzer_pb2.AnalyzeResponse) -> list[Violation]:
        return [dataclasses.replace(v, urn=v.urn or request.urn) for v in cls._violations(reply)]

    def _analyze(self, requests: Sequence[analyzer_pb2.AnalyzeRequest]) -> list[analyzer_pb2.AnalyzeResponse]:
        """Each request's Analyze reply, in order: in chunks through `AnalyzeEach` when enabled and offered,
        else one Analyze call per request."""
        if self._analyze_each and requests:
            each_request, each_response = analyze_each_types()
            method = self._channel.unary_unary(  # type: ignore[union-attr]
                EACH_METHOD, request_serializer=each_request.SerializeToString,
                response_deserializer=each_response.FromString)
            chunks = (each_request(requests=chunk) for chunk in _chunks(requests))
            try:
                return [reply for each in self._pipelined(method, chunks, 2) for reply in each.responses]
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
                    raise
                self._analyze_each = False  # a pack without it (an older guard): the protocol's own way
        return self._pipelined(self.stub.Analyze, requests)

    @staticmethod
    def _pipelined(method: Any, requests: Iterable[Any], in_flight: int = IN_FLIGHT) -> list[Any]:
        """Each request's reply, in order, with up to IN_FLIGHT calls outstanding at once, as the engine sends
        Analyze for resources registered concurrently: the pack judges one while the next is on the wire, so
        the round trip's latency is not paid once per resource (1.9x faster at 300 teams)."""
        replies: list[Any] = []
        pending: collections.deque[Any] = collections.deque()
        for request in requests:
            pending.append(method.future(request))
            if len(pending) >= in_flight:
                replies.append(pending.popleft().result())
        replies.extend(future.result() for future in pending)
        return replies

    @staticmethod
    def _violations(reply: analyzer_pb2.AnalyzeResponse) -> list[Violation]:
        return [Violation(d.policyName, _LEVEL_NAMES.get(d.enforcementLevel, str(d.enforcementLevel)), d.message, d.urn)
                for d in reply.diagnostics]


__all__ = ["UNKNOWN", "PackInfo", "PolicyDescription", "PolicyPackClient", "Resource", "Violation", "default_urn"]
