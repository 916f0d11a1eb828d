"""The staff workbench (办件处理): a department's inbox, claiming and completing tasks, and time-limit flags.

Completing a task locks its application, restores the workflow instance, lets the engine run to its next waits and
stores it again in the same transaction, so two departments finishing parallel tasks at once cannot lose a step.
A rejection by any department ends the application (不予许可) and cancels the other departments' open tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from yiwang.core import audit
from yiwang.core.authz import Resource, authorize
from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor, Role
from yiwang.core.models import is_row_id, utcnow
from yiwang.core.workdays import WorkCalendar, load_calendar
from yiwang.services import applications, licences, workflow
from yiwang.services.models import Application, ApplicationState, ApplicationTask, ServiceItem, TaskState
from yiwang.services.rules import ServicesAction, department_resource

DECISIONS = ("approve", "reject")
MAX_COMMENT = 2000
MAX_INBOX = 500


class Deadline(StrEnum):
    """时限状态 of an open application against its promised time limit."""

    ON_TIME = "on_time"
    NEARLY_DUE = "nearly_due"  # 临期预警
    OVERDUE = "overdue"  # 已超期
    FINISHED = "finished"


DEADLINE_LABELS = {
    Deadline.ON_TIME: N_("On time"),
    Deadline.NEARLY_DUE: N_("Nearly due"),
    Deadline.OVERDUE: N_("Overdue"),
    Deadline.FINISHED: N_("Finished"),
}


def deadline(
    application: Application, calendar: WorkCalendar, warning_days: int, now: datetime | None = None
) -> Deadline:
    """Overdue once past the promised limit; nearly due within `warning_days` working days of it."""
    if application.state != ApplicationState.IN_PROGRESS.value:
        return Deadline.FINISHED
    now = now or utcnow()
    if now > application.promised_due_at:
        return Deadline.OVERDUE
    if calendar.working_days_between(now, application.promised_due_at) <= warning_days:
        return Deadline.NEARLY_DUE
    return Deadline.ON_TIME


def task_resource(task: ApplicationTask) -> Resource:
    return department_resource("task", task.department_id, task.id)


@dataclass(frozen=True)
class InboxEntry:
    task: ApplicationTask
    application: Application
    deadline: Deadline


def inbox(
    session: Session,
    actor: Actor,
    warning_days: int,
    *,
    state: str = "open",
    service: str = "",
    flag: str = "",
) -> list[InboxEntry]:
    """Tasks of the actor's department (the admin sees every department's), filtered, most urgent first.

    `state` is ``open`` (open and claimed), ``mine`` (claimed by the actor), ``done`` or ``all``; `flag` keeps only
    ``overdue`` or ``nearly_due`` applications."""
    authorize(actor, ServicesAction.INBOX)
    query = select(ApplicationTask, Application).join(Application, Application.id == ApplicationTask.application_id)
    if not actor.has_role(Role.ADMIN):
        query = query.where(ApplicationTask.department_id == (actor.department_id or -1))
    if state == "open":
        query = query.where(ApplicationTask.state.in_([TaskState.OPEN.value, TaskState.CLAIMED.value]))
    elif state == "mine":
        query = query.where(
            ApplicationTask.state == TaskState.CLAIMED.value, ApplicationTask.claimed_by == actor.username
        )
    elif state == "done":
        query = query.where(ApplicationTask.state.in_([TaskState.COMPLETED.value, TaskState.CANCELLED.value]))
    elif state != "all":
        raise InvalidInput("task.bad_state", N_("state must be open, mine, done or all"))
    if service:
        query = query.join(ServiceItem, ServiceItem.id == Application.service_item_id).where(
            ServiceItem.code == service
        )
    if flag and flag not in (Deadline.OVERDUE.value, Deadline.NEARLY_DUE.value):
        raise InvalidInput("task.bad_flag", N_("flag must be overdue or nearly_due"))
    now = utcnow()
    calendar = load_calendar(session)
    entries = [
        InboxEntry(task, application, deadline(application, calendar, warning_days, now))
        for task, application in session.execute(query.order_by(Application.promised_due_at).limit(MAX_INBOX))
    ]
    if flag:
        entries = [entry for entry in entries if entry.deadline.value == flag]
    return entries


def _task(session: Session, actor: Actor, task_id: int) -> tuple[ApplicationTask, Application]:
    """The task with its application locked, after checking the actor works in the task's department."""
    task = session.get(ApplicationTask, task_id) if is_row_id(task_id) else None
    if task is None:
        raise NotFound("task.not_found", N_("No task {id}"), id=task_id)
    authorize(actor, ServicesAction.HANDLE_TASK, task_resource(task))
    application = session.scalar(
        select(Application)
        .where(Application.id == task.application_id)
        .options(lazyload(Application.materials))  # completing a task never reads the materials
        .with_for_update()
    )
    assert application is not None
    session.refresh(task)  # read again under the lock: another department may just have finished
    return task, application


def _still_open(task: ApplicationTask, actor: Actor) -> None:
    if task.state not in (TaskState.OPEN.value, TaskState.CLAIMED.value):
        raise Conflict("task.not_open", N_("This task is no longer open"))
    if task.state == TaskState.CLAIMED.value and task.claimed_by != actor.username:
        raise Conflict("task.claimed", N_("{user} has claimed this task"), user=task.claimed_by)


def claim_task(session: Session, actor: Actor, task_id: int) -> ApplicationTask:
    """签收: the task becomes the actor's, so colleagues do not work on it twice."""
    task, _application = _task(session, actor, task_id)
    _still_open(task, actor)
    task.state = TaskState.CLAIMED.value
    task.claimed_by = actor.username
    audit.record(
        session,
        actor,
        "task.claim",
        resource_type="application",
        resource_id=str(task.application_id),
        detail={"task": task.id, "step": task.step},
    )
    return task


def complete_task(session: Session, actor: Actor, task_id: int, decision: str, comment: str) -> Application:
    """Approve or reject the task's part; the engine then opens the next tasks or ends the application."""
    if decision not in DECISIONS:
        raise InvalidInput("task.bad_decision", N_("decision must be approve or reject"))
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(
            "task.comment_too_long", N_("The comment is longer than {most} characters"), most=MAX_COMMENT
        )
    if decision == "reject" and not comment:
        raise InvalidInput("task.reason_required", N_("Say why the application is rejected"))
    task, application = _task(session, actor, task_id)
    _still_open(task, actor)
    now = utcnow()
    process = application.process
    instance = workflow.Instance.restore(application.instance_state, process.spec_state)
    task.state, task.decision, task.comment = TaskState.COMPLETED.value, decision, comment
    task.completed_at, task.completed_by = now, actor.username
    if task.clock_paused:  # 特别程序: the days this step took do not count toward the time limit
        calendar = load_calendar(session)
        paused = calendar.working_days_between(task.opened_at, now)
        application.promised_due_at = calendar.add_working_days(application.promised_due_at, paused)
        application.legal_due_at = calendar.add_working_days(application.legal_due_at, paused)
    if decision == "reject":
        instance.cancel()
        for other in application.tasks:
            if other.state in (TaskState.OPEN.value, TaskState.CLAIMED.value) and other.id != task.id:
                other.state = TaskState.CANCELLED.value
        application.state, application.finished_at, application.result_note = (
            ApplicationState.REJECTED.value,
            now,
            comment,
        )
    else:
        instance.complete(task.engine_task_id, {f"{task.step}_decision": decision, f"{task.step}_comment": comment})
        applications.open_new_tasks(session, application, process, instance, application.service_item)
        if instance.is_completed:
            application.state, application.finished_at = ApplicationState.COMPLETED.value, now
            application.result_note = comment
    applications.save_instance(application, instance)
    audit.record(
        session,
        actor,
        "task.complete",
        resource_type="application",
        resource_id=str(application.id),
        detail={"task": task.id, "step": task.step, "decision": decision, "state": application.state},
    )
    if application.state == ApplicationState.COMPLETED.value:
        licences.issue_for(session, actor, application)
    return application
