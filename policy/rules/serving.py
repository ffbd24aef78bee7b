"""How the pack serves a call: each resource converted once per call, not once per policy.

The pulumi-policy SDK converts a resource's properties (`MessageToDict`, `deserialize_properties`,
`unknown_checking_proxy`: three copies of the value) and builds its options, provider and, for AnalyzeStack,
the linked resource objects inside its loop over policies: once per resource policy in an Analyze call, the
whole stack once per stack policy in an AnalyzeStack call. At 1,000 teams (19,006 resources) that was about
80% of AnalyzeStack (BENCHMARKS.md).

`convert_once_per_call` replaces the SDK's `Analyze` and `AnalyzeStack` with `_analyze` and `_analyze_stack`:
the SDK's code (pulumi-policy 1.21.0, the version the lock pins), doing that work once per call and handing
every policy the same objects. Sharing is safe because no rule writes to them: every rule works on
`common.plain` copies made for it. With any other SDK version the SDK's own methods stay. Either way the cyclic
garbage collector is paused while any call runs (one call allocates hundreds of thousands of containers that
all stay alive until it returns, and each collection walks them all: half of AnalyzeStack's time at 1,000
teams) and resumes when the last running call returns.

`AnalyzeEach` (`serve_analyze_each`) is one more method on the pack's server, next to the protocol's: a list
of Analyze requests in, the list of their Analyze replies out, each computed by the servicer's own `Analyze`,
so its answers are Analyze's by construction. The Pulumi CLI never calls it; `make check` does, because the
gRPC round trip of one Analyze costs the two Python processes about 450 µs of CPU, several times what the
resource policies take (17,003 round trips at 1,000 teams). The message types are defined here at run time
(no .proto to compile) in a package of our own; `engine/analyzer.py` defines the same two, and a client falls
back to Analyze per resource where a pack (an older base guard) answers UNIMPLEMENTED.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from inspect import isawaitable
from typing import Any, TypeVar

import grpc
import pulumi_policy.policy as sdk
import pulumi_policy.version as sdk_version
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from pulumi.runtime.proto import analyzer_pb2

F = TypeVar("F", bound=Callable[..., Any])

class _Collector:
    """Pauses the cyclic garbage collector while at least one call runs (calls run on several threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._resume = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._resume:
                    gc.enable()


_collector = _Collector()


def _per_call(method: F) -> F:
    """`method` (a servicer's call) with the cyclic garbage collector paused while it runs."""

    @functools.wraps(method)
    def serve(self: Any, request: Any, context: Any) -> Any:
        with _collector.paused():
            return method(self, request, context)

    return serve  # type: ignore[return-value]


EACH_SERVICE = "ecrplatform.guard.Analyzer"
EACH_METHOD = "AnalyzeEach"


def analyze_each_types() -> tuple[Any, Any]:
    """`AnalyzeEachRequest {repeated pulumirpc.AnalyzeRequest requests = 1}` and `AnalyzeEachResponse
    {repeated pulumirpc.AnalyzeResponse responses = 1}`, defined once per process."""
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


def analyze_each_handler(servicer: Any) -> grpc.GenericRpcHandler:
    """`AnalyzeEach` for `servicer`: its `Analyze` for each request, in order."""
    each_request, each_response = analyze_each_types()

    def analyze_each(request: Any, context: Any) -> Any:
        with _collector.paused():
            return each_response(responses=[servicer.Analyze(r, context) for r in request.requests])

    return grpc.method_handlers_generic_handler(EACH_SERVICE, {EACH_METHOD: grpc.unary_unary_rpc_method_handler(
        analyze_each, request_deserializer=each_request.FromString,
        response_serializer=each_response.SerializeToString)})


class _WithAnalyzeEach:
    """The SDK's view of `analyzer_pb2_grpc`: registering the analyzer also registers `AnalyzeEach`."""

    def __init__(self, generated: Any) -> None:
        self._generated = generated

    def __getattr__(self, name: str) -> Any:
        return getattr(self._generated, name)

    def add_AnalyzerServicer_to_server(self, servicer: Any, server: Any) -> None:
        self._generated.add_AnalyzerServicer_to_server(servicer, server)
        server.add_generic_rpc_handlers((analyze_each_handler(servicer),))


def serve_analyze_each() -> None:
    """Make the pack's server offer `AnalyzeEach` (see the module doc)."""
    sdk.analyzer_pb2_grpc = _WithAnalyzeEach(sdk.analyzer_pb2_grpc)  # type: ignore[assignment]


FORKED_FROM = "1.21.0"
"""The pulumi-policy version `_analyze`, `_analyze_stack` and `_stack_resources` follow (policy/requirements.txt)."""


def _stack_resources(servicer: Any, request: Any) -> list[sdk.PolicyResource]:
    """The stack's resources as the SDK's AnalyzeStack builds them for each stack policy (pulumi-policy 1.21.0,
    `policy.py` lines 1047-1085): converted, linked to their parents and dependencies."""
    by_urn: dict[str, sdk.PolicyResource] = {}
    links = []
    for r in request.resources:
        props = sdk.unknown_checking_proxy(sdk.deserialize_properties(sdk.json_format.MessageToDict(r.properties)))
        resource = sdk.PolicyResource(r.type, props, r.urn, r.name, servicer._get_resource_options(r),
                                      servicer._get_provider_resource(r), None, [], {})
        links.append((resource, r.parent, list(r.dependencies),
                      {k: list(v.urns) for k, v in r.propertyDependencies.items()}))
        by_urn[resource.urn] = resource
    for resource, parent, dependencies, property_dependencies in links:
        if parent is not None and parent in by_urn:
            resource.parent = by_urn[parent]
        resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
        for key, urns in property_dependencies.items():
            resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
    return [resource for resource, *_ in links]


def _unknown_diagnostic(self: Any, policy: Any, error: Any) -> Any:
    """The SDK's diagnostic for a policy that met an unknown value during preview (its wording, 1.21.0)."""
    name = self._PolicyAnalyzerServicer__policy_pack_name
    version = self._PolicyAnalyzerServicer__policy_pack_version
    return sdk.proto.AnalyzeDiagnostic(
        policyName=policy.name, policyPackName=name, policyPackVersion=version,
        message=f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: "
                f"{error.message}",
        urn="", description=policy.description,
        enforcementLevel=self._map_enforcement_level(sdk.EnforcementLevel.ADVISORY))


def _run(self: Any, policy: Any, args: Any, report_violation: Any, response: Any) -> None:
    """One policy's validate, with the SDK's handling of what it raises (1.21.0)."""
    try:
        result = policy.validate(args, report_violation)
        if isawaitable(result):
            loop = asyncio.new_event_loop()
            loop.run_until_complete(asyncio.Task(result, loop=loop))  # type: ignore[arg-type]
            loop.close()
    except sdk.UnknownValueError as e:
        response.diagnostics.append(_unknown_diagnostic(self, policy, e))
    except sdk._NotApplicableError as e:
        response.not_applicable.append(sdk.proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or ""))


JUDGED_TYPES = "judged_types"
"""The attribute on our resource policies naming the types their validate judges (`common._policy`); for any
other type it returns at once, saying nothing."""


def _analyze(self: Any, request: Any, _context: Any) -> Any:
    """The SDK's `Analyze` (pulumi-policy 1.21.0) with two changes: the resource's properties, options and
    provider are built once for all resource policies (the SDK builds them per policy), and a policy whose
    `judged_types` leaves out the request's type is not called (its validate would return at once). The
    properties are still converted before any policy runs, so a value the SDK cannot convert fails the call as
    it does in the SDK. tests/policy/test_serving.py compares the two."""
    self._configure_runtime_settings()
    response = sdk.proto.AnalyzeResponse()
    shared: tuple[Any, Any, Any] | None = None
    for policy in self._PolicyAnalyzerServicer__policies:
        enforcement_level = self._get_enforcement_level(policy)
        if enforcement_level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.ResourceValidationPolicy):
            continue
        if not policy.has_validation():
            response.not_applicable.append(sdk.proto.PolicyNotApplicable(
                policy_name=policy.name, reason="Policy does not implement validate"))
            continue
        if shared is None:
            props = sdk.unknown_checking_proxy(sdk.deserialize_properties(
                sdk.json_format.MessageToDict(request.properties)))
            shared = props, self._get_resource_options(request), self._get_provider_resource(request)
        judged = getattr(policy, JUDGED_TYPES, None)
        if judged is not None and request.type not in judged:
            continue
        if enforcement_level == sdk.EnforcementLevel.REMEDIATE:
            enforcement_level = sdk.EnforcementLevel.MANDATORY
        report_violation = self._create_report_violation(response, policy.name, policy.description,
                                                         enforcement_level, policy.severity)
        props, opts, provider = shared
        config = self._get_policy_config(policy.name)
        args = sdk.ResourceValidationArgs(request.type, props, request.urn, request.name, opts, provider, config,
                                          self._PolicyAnalyzerServicer__stack_tags)
        _run(self, policy, args, report_violation, response)
    return response


def _analyze_stack(self: Any, request: Any, _context: Any) -> Any:
    """The SDK's `AnalyzeStack` (pulumi-policy 1.21.0) with one change: the resources are built once
    (`_stack_resources`) and every stack policy gets the same list, where the SDK builds one per policy (45% of
    the call at 1,000 teams). Our rules only read it (`common.stack_resources` copies what a rule keeps).
    tests/policy/test_serving.py compares the two on the fixture stacks and the attack graphs."""
    self._configure_runtime_settings()
    response = sdk.proto.AnalyzeResponse()
    resources: list[sdk.PolicyResource] | None = None
    for policy in self._PolicyAnalyzerServicer__policies:
        enforcement_level = self._get_enforcement_level(policy)
        if enforcement_level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.StackValidationPolicy):
            continue
        if enforcement_level == sdk.EnforcementLevel.REMEDIATE:
            enforcement_level = sdk.EnforcementLevel.MANDATORY
        report_violation = self._create_report_violation(response, policy.name, policy.description,
                                                         enforcement_level, policy.severity)
        if resources is None:
            resources = _stack_resources(self, request)
        args = sdk.StackValidationArgs(resources, self._get_policy_config(policy.name),
                                       self._PolicyAnalyzerServicer__stack_tags)
        _run(self, policy, args, report_violation, response)
    return response


def convert_once_per_call() -> None:
    """Make the SDK's policy server convert each resource once per call (see the module doc)."""
    servicer = sdk._PolicyAnalyzerServicer
    # the forks follow the SDK version the lock pins; any other version keeps the SDK's own methods
    forked = sdk_version.VERSION == FORKED_FROM
    servicer.Analyze = _per_call(_analyze if forked else servicer.Analyze)  # type: ignore[method-assign]
    servicer.AnalyzeStack = _per_call(_analyze_stack if forked else servicer.AnalyzeStack)  # type: ignore[method-assign]
