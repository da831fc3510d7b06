"""An offline inventory of what a stack declares, made by running its program under Pulumi's mock runtime
(no Pulumi CLI, no cluster), with the policy verdicts beside it."""
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from infra.policies.checks import RESOURCE_CHECKS, SECRET_MARK, STACK_CHECKS

PROVIDER_KEY = "__provider"
PROJECT = "fsp"


@dataclass
class Declared:
    """One registered resource: Pulumi type token, logical name, input properties (secrets masked)."""

    type: str
    name: str
    props: dict[str, Any]
    parent: str | None = None
    depends_on: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "props": self.props, "parent": self.parent,
                "depends_on": self.depends_on}


class _EchoMocks(pulumi.runtime.Mocks):
    """Every resource is created with its inputs as its state; an id derived from its name."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """Keeps each registration as the engine would receive it, before the mock unwraps its secrets."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.declared: list[Declared] = []
        self._names: dict[str, str] = {}

    def RegisterResource(self, request):  # noqa: N802 (the gRPC method's name)
        response = super().RegisterResource(request)
        self._names[response.urn] = request.name
        if request.type != "pulumi:pulumi:Stack":
            props = _mask_secrets(json_format.MessageToDict(request.object))
            props.pop(PROVIDER_KEY, None)
            self.declared.append(Declared(
                type=request.type, name=request.name, props=props,
                parent=self._names.get(request.parent),
                depends_on=sorted(self._names.get(urn, urn) for urn in request.dependencies)))
        return response


def _mask_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if rpc.is_rpc_secret(value):
            return SECRET_MARK
        return {key: _mask_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_secrets(item) for item in value]
    return value


def declare(program: Callable[[], None], *, stack: str) -> list[Declared]:
    """Run `program` under fresh mocks and return every resource it registered, in order."""
    mocks = _EchoMocks()
    monitor = _RecordingMonitor(mocks)
    # Pulumi's mocks run on the thread's current loop, and an earlier asyncio.run() leaves none behind
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
        pulumi.runtime.test(program)()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return monitor.declared


def violations(resources: list[Declared]) -> list[dict[str, str]]:
    """Every policy verdict against `resources`: [{"policy", "type", "name", "message"}]."""
    found = [{"policy": policy, "type": r.type, "name": r.name, "message": message}
             for r in resources for policy, (_, check) in RESOURCE_CHECKS.items()
             for message in check(r.type, r.props)]
    found += [{"policy": policy, "type": "pulumi:pulumi:Stack", "name": "", "message": message}
              for policy, (_, check) in STACK_CHECKS.items()
              for message in check((r.type, r.props) for r in resources)]
    return found


def plan(program: Callable[[], None], *, stack: str) -> dict[str, list]:
    """`{"resources": [{type, name, props, ...}], "violations": [...]}` for the program of one stack."""
    resources = declare(program, stack=stack)
    return {"resources": [r.as_dict() for r in resources], "violations": violations(resources)}
