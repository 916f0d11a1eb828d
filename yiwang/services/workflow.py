"""The workflow engine seam: SpiffWorkflow runs a service item's BPMN process for each application.

A process's spec is serialised once per process version (``spec_state``); each application stores only its
instance (``instance_state``, the spec stripped out), so a restart resumes every open application from the database.
Conditions and scripts run through `evaluator`, never Python's `eval`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from yiwang.core.errors import Conflict, DomainError
from yiwang.core.i18n import N_
from yiwang.services import bpmn, evaluator

_SPEC_KEYS = ("spec", "subprocess_specs")


class _RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Expressions and scripts over task data through the restricted evaluator."""

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return evaluator.evaluate(expression, context)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        evaluator.execute(script, context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise evaluator.UnsafeExpression("workflow.service_call", N_("Service tasks are not supported"))


SCRIPT_ENGINE = PythonScriptEngine(environment=_RestrictedEnvironment())
_SERIALIZER = BpmnWorkflowSerializer()


@dataclass(frozen=True)
class OpenTask:
    """A user task waiting for a department: the engine's task id, the step id and name, and its lane."""

    task_id: str
    step: str
    name: str
    lane: str


class WorkflowFailed(Conflict):
    """The engine could not advance the process (a condition failed on this application's data)."""


def _failed(error: Exception) -> WorkflowFailed:
    detail = error.message if isinstance(error, DomainError) else str(error).splitlines()[0][:300]
    cause: BaseException = error
    while not isinstance(cause, DomainError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, DomainError):
        detail = cause.render()
    return WorkflowFailed("workflow.failed", N_("The workflow could not go on: {detail}"), detail=detail)


def compile_spec(xml: bytes, process_id: str) -> dict[str, Any]:
    """The serialised spec of a checked process, stored once per process version."""
    parser = bpmn.spec_parser(xml)
    workflow = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
    state = _SERIALIZER.to_dict(workflow)
    return {key: state[key] for key in _SPEC_KEYS}


class Instance:
    """One application's running process."""

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self.workflow = workflow

    @classmethod
    def start(cls, spec_state: Mapping[str, Any], data: Mapping[str, Any]) -> Instance:
        """A new instance with `data` (the form) as its data, advanced to its first waiting user tasks."""
        state = _copied(spec_state)  # restoring consumes the dicts it reads
        spec = _SERIALIZER.from_dict(state["spec"])
        subprocess_specs = {name: _SERIALIZER.from_dict(sub) for name, sub in state["subprocess_specs"].items()}
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
        workflow.data.update(json.loads(json.dumps(data)))
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(json.loads(json.dumps(data)))
        instance = cls(workflow)
        instance._advance()
        return instance

    @classmethod
    def restore(cls, instance_state: Mapping[str, Any], spec_state: Mapping[str, Any]) -> Instance:
        return cls(_restore(instance_state, spec_state))

    def dump(self) -> dict[str, Any]:
        """The instance's state without its spec (JSON-serialisable)."""
        state: dict[str, Any] = _SERIALIZER.to_dict(self.workflow)
        for key in _SPEC_KEYS:
            state.pop(key, None)
        return state

    def open_tasks(self) -> list[OpenTask]:
        return [
            OpenTask(
                str(task.id),
                task.task_spec.name,
                task.task_spec.bpmn_name or task.task_spec.name,
                task.task_spec.lane or "",
            )
            for task in self.workflow.get_tasks(state=TaskState.READY)
            if isinstance(task.task_spec, UserTask)
        ]

    def complete(self, task_id: str, data: Mapping[str, Any]) -> None:
        """Complete the ready user task `task_id` with `data` merged into its data, then run on to the next waits."""
        task = self.workflow.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY or not isinstance(task.task_spec, UserTask):
            raise Conflict("task.not_open", N_("This task is no longer open"))
        task.data.update(data)
        try:
            task.run()
        except (SpiffWorkflowException, DomainError) as error:
            raise _failed(error) from None
        self._advance()

    def cancel(self) -> None:
        self.workflow.cancel()

    @property
    def is_completed(self) -> bool:
        return bool(self.workflow.is_completed())

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.workflow.data)
        return data

    def _advance(self) -> None:
        try:
            self.workflow.do_engine_steps()
        except (SpiffWorkflowException, DomainError) as error:
            raise _failed(error) from None


def _copied(value: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of JSON data (faster than `copy.deepcopy` for it)."""
    copied: dict[str, Any] = json.loads(json.dumps(value))
    return copied


def _restore(state: Mapping[str, Any], spec_state: Mapping[str, Any]) -> BpmnWorkflow:
    full = _copied({**state, **{key: spec_state[key] for key in _SPEC_KEYS}})
    workflow = _SERIALIZER.from_dict(full)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow
