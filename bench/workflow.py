"""Workflow 一网通办: applications submitted and advanced by department staff through the platform (the real workflow
engine, each step its own transaction with the tasks table, authorization and the audit chain), against the same
BPMN processes run by bare SpiffWorkflow in memory; and the workflow state stored per application.

Two demo service items: the investment single window (4 departments in parallel) and the no-criminal-record
certificate (one task). yiwang's side submits with `applications.submit` in its own `Database.session()` (as the API
does), then each department's staff completes its open tasks with `handling.complete_task`, one transaction each.
The bare side starts the compiled spec with `workflow.Instance.start`, completes the same tasks with
`Instance.complete`, and serialises the instance after every step (`json.dumps(instance.dump())`, the least that
persisting costs). The sides take turns in blocks of applications. Both must finish every application with the
same number of completed tasks, and the database must then hold every application completed. The issue states no
target, so the figures carry none: the ratio is what persistence, audit and authorization cost over the engine.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Thread
from typing import TYPE_CHECKING, Any, Protocol

from bench.databases import empty_url
from bench.harness import DatabaseKind, Figure, Options, Size, Target, per_database
from bench.profiling import profile
from bench.rows import percentile

if TYPE_CHECKING:  # yiwang is imported when the benchmark runs, so that `--list` stays quick
    from yiwang.core.db import Database
    from yiwang.core.identity import Actor

DESCRIPTION = (
    "workflow: applications submitted and tasks completed through the platform vs bare SpiffWorkflow in memory"
)
NAME = "workflow"
SINGLE_WINDOW = "investment-single-window"  # 4 department tasks in parallel
CERTIFICATE = "no-criminal-record-certificate"  # 1 task
SERVICES = (SINGLE_WINDOW, CERTIFICATE)
APPLICANTS = {SINGLE_WINDOW: "touzi", CERTIFICATE: "shimin"}  # the demo's investor and citizen
SHORT = {SINGLE_WINDOW: "single window", CERTIFICATE: "certificate"}
REPORTED = Target()  # no target in the issue: the ratio is shown, not judged
BARE = "bare SpiffWorkflow in memory"
WITH_SPEC = "the same state with its spec stored alongside"
CONCURRENT_THREADS = 2


@dataclass(frozen=True)
class WorkflowSize:
    applications: int  # each side; the services alternate
    blocks: int  # turns the sides take
    concurrent: int  # single-window applications per thread count, over two turns (PostgreSQL only)


SIZES: dict[Size, WorkflowSize] = {
    "tiny": WorkflowSize(applications=10, blocks=2, concurrent=4),
    "small": WorkflowSize(applications=300, blocks=6, concurrent=60),
    "full": WorkflowSize(applications=3_000, blocks=10, concurrent=300),
}


def stored_bytes(state: Any) -> int:
    """The size a JSON document takes as `applications.save_instance` measures it (compact, UTF-8)."""
    return len(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


# --- the two sides -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """An open user task: its service, the side's application handle, the side's task id, and who does it (yiwang: a
    department id; bare: the step id)."""

    service: str
    application: int
    task_id: int | str
    owner: int | str


@dataclass(frozen=True)
class Saved:
    """What one step left: the tasks it opened, the size of the state stored, and whether the application finished."""

    opened: list[Task]
    state_bytes: int
    finished: bool


class Side(Protocol):
    def submit(self, service: str) -> Saved: ...

    def complete(self, task: Task) -> Saved: ...


@dataclass(frozen=True)
class Installation:
    database: Database
    data_dir: Path
    applicants: dict[str, Actor]  # service code → the applicant
    staff: dict[int, Actor]  # department id → a staff member of it
    spec_bytes: dict[str, int]  # service code → size of the process spec stored once


def install(data_dir: Path, database_url: str) -> Installation:
    """A fresh installation (as `yiwang init`) with the demo departments, the applicants and the staff the two
    processes need, and the two service items with their BPMN processes (the operator's calls, as the demo's)."""
    from yiwang.core import accounts, installation
    from yiwang.core.identity import Actor
    from yiwang.core.settings import Settings
    from yiwang.demo.accounts import ACCOUNTS, DEPARTMENTS
    from yiwang.demo.services import load_service_catalogue, service_items
    from yiwang.services import items

    operator = Actor.operator()
    lanes = {step["department"] for s in service_items() if s["code"] in SERVICES for step in s["process"]["steps"]}
    # One staff member per lane, and the two applicants: argon2 makes every account cost ~0.1 s.
    wanted = set(APPLICANTS.values()) | {
        next(a.username for a in ACCOUNTS if a.department == lane and "dept_staff" in a.roles) for lane in lanes
    }
    database = installation.initialise(Settings(data_dir=data_dir, database_url=database_url))
    try:
        with database.session() as session:
            for name, division in DEPARTMENTS:
                accounts.create_department(session, operator, name, division)
            users = [
                accounts.create_user(session, operator, a.username, a.password, a.roles, a.department, a.display_name)
                for a in ACCOUNTS
                if a.username in wanted
            ]
            actors = {user.username: accounts.actor_for(user, via="api") for user in users}
        load_service_catalogue(database, operator, SERVICES)
        with database.read_session() as session:
            spec_bytes = {
                code: stored_bytes(items.current_process(session, items.get_item(session, code)).spec_state)
                for code in SERVICES
            }
    except BaseException:
        database.dispose()
        raise
    staff = {actor.department_id: actor for actor in actors.values() if actor.department_id is not None}
    applicants = {code: actors[username] for code, username in APPLICANTS.items()}
    return Installation(database, data_dir, applicants, staff, spec_bytes)


class PlatformSide:
    """yiwang: each submission and each task completion in its own `Database.session()`, as the API makes them."""

    def __init__(self, made: Installation, stack: ExitStack) -> None:
        from yiwang.demo.services import example_uploads, service_items

        self.made = made
        specs = {spec["code"]: spec for spec in service_items() if spec["code"] in SERVICES}
        self.forms = {code: spec["example_form"] for code, spec in specs.items()}
        # The example files stay on disk for the whole run; every submission copies (and fsyncs) them.
        self.uploads = {code: stack.enter_context(example_uploads(spec)) for code, spec in specs.items()}
        self.seen: set[int] = set()

    def _opened(self, service: str, application: Any) -> list[Task]:
        from yiwang.services.models import TaskState

        new = [t for t in application.tasks if t.state == TaskState.OPEN.value and t.id not in self.seen]
        self.seen.update(t.id for t in new)
        return [Task(service, application.id, t.id, t.department_id) for t in new]

    def submit(self, service: str) -> Saved:
        from yiwang.services import applications

        made = self.made
        with made.database.session() as session:
            application = applications.submit(
                session,
                made.applicants[service],
                service,
                self.forms[service],
                self.uploads[service],
                data_dir=made.data_dir,
            )
            return Saved(self._opened(service, application), application.instance_bytes, False)

    def complete(self, task: Task) -> Saved:
        from yiwang.services import handling
        from yiwang.services.models import ApplicationState

        assert isinstance(task.task_id, int) and isinstance(task.owner, int)
        with self.made.database.session() as session:
            application = handling.complete_task(session, self.made.staff[task.owner], task.task_id, "approve", "")
            finished = application.state == ApplicationState.COMPLETED.value
            return Saved(self._opened(task.service, application), application.instance_bytes, finished)


class BareSide:
    """SpiffWorkflow alone, in memory: the same compiled processes, the instance serialised after every step."""

    def __init__(self) -> None:
        from yiwang.demo.services import process_xml, service_items
        from yiwang.services import bpmn, workflow

        self.specs: dict[str, dict[str, Any]] = {}
        self.forms: dict[str, dict[str, Any]] = {}
        for spec in service_items():
            if spec["code"] in SERVICES:
                xml = process_xml(spec)
                self.specs[spec["code"]] = workflow.compile_spec(xml, bpmn.parse(xml).process_id)
                self.forms[spec["code"]] = {**spec["example_form"], "service": spec["code"]}
        self.instances: list[workflow.Instance] = []
        self.seen: set[str] = set()

    def _saved(self, service: str, index: int) -> Saved:
        instance = self.instances[index]
        new = [t for t in instance.open_tasks() if t.task_id not in self.seen]
        self.seen.update(t.task_id for t in new)
        size = stored_bytes(instance.dump())
        return Saved([Task(service, index, t.task_id, t.step) for t in new], size, instance.is_completed)

    def submit(self, service: str) -> Saved:
        from yiwang.services import workflow

        self.instances.append(workflow.Instance.start(self.specs[service], self.forms[service]))
        return self._saved(service, len(self.instances) - 1)

    def complete(self, task: Task) -> Saved:
        assert isinstance(task.task_id, str)
        step = task.owner
        self.instances[task.application].complete(task.task_id, {f"{step}_decision": "approve", f"{step}_comment": ""})
        return self._saved(task.service, task.application)


# --- measuring -----------------------------------------------------------------------------------------------------


@dataclass
class Timings:
    """One side's latencies (seconds) and state sizes (bytes): after every save, and once an application is done."""

    submits: list[float] = field(default_factory=list)
    completions: list[float] = field(default_factory=list)
    sizes: dict[str, list[int]] = field(default_factory=lambda: {code: [] for code in SERVICES})
    final: dict[str, list[int]] = field(default_factory=lambda: {code: [] for code in SERVICES})

    def keep(self, service: str, saved: Saved) -> None:
        self.sizes[service].append(saved.state_bytes)
        if saved.finished:
            self.final[service].append(saved.state_bytes)

    @property
    def finished(self) -> int:
        return sum(len(sizes) for sizes in self.final.values())


def run_block(side: Side, services: Sequence[str], into: Timings) -> None:
    """Submit `services`' applications one by one, then complete every task they open, in the order opened."""
    waiting: deque[Task] = deque()
    for service in services:
        start = time.perf_counter()
        saved = side.submit(service)
        into.submits.append(time.perf_counter() - start)
        into.keep(service, saved)
        waiting.extend(saved.opened)
    while waiting:
        task = waiting.popleft()
        start = time.perf_counter()
        saved = side.complete(task)
        into.completions.append(time.perf_counter() - start)
        into.keep(task.service, saved)
        waiting.extend(saved.opened)


def check_done(made: Installation, applications: int, timings: dict[str, Timings]) -> None:
    """Both sides finished every application with the same number of tasks; the database agrees."""
    from sqlalchemy import func, select

    from yiwang.services.models import Application, ApplicationState, ApplicationTask, TaskState

    with made.database.read_session() as session:
        completed = session.scalar(select(func.count()).where(Application.state == ApplicationState.COMPLETED.value))
        tasks = session.scalar(select(func.count()).where(ApplicationTask.state == TaskState.COMPLETED.value))
    ours, bare = timings["yiwang"], timings["bare"]
    counts = (ours.finished, bare.finished, completed, len(ours.completions), len(bare.completions), tasks)
    if counts[:3] != (applications,) * 3 or len(set(counts[3:])) != 1:
        raise RuntimeError(f"the sides did not do the same work (finished ×3, tasks ×3): {counts}")


def figures_of(
    options: Options, kind: DatabaseKind, made: Installation, applications: int, timings: dict[str, Timings]
) -> list[Figure]:
    ours, bare = timings["yiwang"], timings["bare"]
    size = options.size
    workload = " + ".join(f"{len(ours.final[code]):,} {SHORT[code]}" for code in SERVICES) + " applications"
    figures: list[Figure] = []

    def add(name: str, unit: str, mine: float, reference: float, label: str = BARE, load: str = workload) -> None:
        figures.append(Figure(NAME, name, kind, size, load, unit, mine, reference, label, REPORTED))

    add("submissions", "/s", len(ours.submits) / sum(ours.submits), len(bare.submits) / sum(bare.submits))
    add(
        "task completions",
        "/s",
        len(ours.completions) / sum(ours.completions),
        len(bare.completions) / sum(bare.completions),
    )
    add(
        "applications end to end",
        "/s",
        applications / (sum(ours.submits) + sum(ours.completions)),
        applications / (sum(bare.submits) + sum(bare.completions)),
    )
    for name, mine, theirs in (
        ("submit", ours.submits, bare.submits),
        ("completion", ours.completions, bare.completions),
    ):
        for share in (0.5, 0.95):
            add(
                f"{name} p{round(share * 100)}",
                "µs",
                percentile(mine, share) * 1e6,
                percentile(theirs, share) * 1e6,
            )
    for code in SERVICES:
        spec = made.spec_bytes[code]
        load = f"{len(ours.final[code]):,} {SHORT[code]} applications; spec stored once: {spec:,} B"
        label = f"{WITH_SPEC}, bare engine"
        final_mean = statistics.fmean(ours.final[code])
        add(
            f"state mean, done ({SHORT[code]})", "B", final_mean, statistics.fmean(bare.final[code]) + spec, label, load
        )
        add(f"state max ({SHORT[code]})", "B", max(ours.sizes[code]), max(bare.sizes[code]) + spec, label, load)
    return figures


def summary(timings: dict[str, Timings]) -> str:
    parts = []
    for side, t in timings.items():
        parts.append(
            f"{side}: submit p50 {percentile(t.submits, 0.5) * 1000:,.2f} ms, "
            f"completion p50 {percentile(t.completions, 0.5) * 1000:,.2f} ms "
            f"({len(t.submits):,} submits, {len(t.completions):,} completions)"
        )
    return " · ".join(parts)


# --- concurrency (PostgreSQL) --------------------------------------------------------------------------------------


def concurrent_rate(made: Installation, side: PlatformSide, applications: int, threads: int) -> float:
    """Task completions per second when `threads` staff threads complete the tasks of different applications."""
    waiting: list[deque[Task]] = [deque() for _ in range(threads)]
    for number in range(applications):
        waiting[number % threads].extend(side.submit(SINGLE_WINDOW).opened)
    done = [0] * threads
    failures: list[BaseException] = []

    def work(lane: int) -> None:
        try:
            while waiting[lane]:
                task = waiting[lane].popleft()
                waiting[lane].extend(side.complete(task).opened)
                done[lane] += 1
        except BaseException as error:  # re-raised in the main thread below
            failures.append(error)

    workers = [Thread(target=work, args=(lane,)) for lane in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - start
    if failures:
        raise failures[0]
    return sum(done) / seconds


def concurrency_figure(options: Options, kind: DatabaseKind, made: Installation, size: WorkflowSize) -> Figure:
    """Task completions/s with two staff threads on different applications against one thread, in alternate turns."""
    with ExitStack() as stack:
        side = PlatformSide(made, stack)
        rates: dict[int, list[float]] = {1: [], CONCURRENT_THREADS: []}
        for turn in range(2):
            for threads in (1, CONCURRENT_THREADS) if turn == 0 else (CONCURRENT_THREADS, 1):
                rates[threads].append(concurrent_rate(made, side, size.concurrent // 2, threads))
    workload = f"2 × {size.concurrent // 2:,} {SHORT[SINGLE_WINDOW]} applications a thread count"
    return Figure(
        NAME,
        f"task completions, {CONCURRENT_THREADS} threads",
        kind,
        options.size,
        workload,
        "/s",
        statistics.fmean(rates[CONCURRENT_THREADS]),
        statistics.fmean(rates[1]),
        "yiwang, 1 thread",
        REPORTED,
    )


# --- running -------------------------------------------------------------------------------------------------------


@contextmanager
def installed(options: Options, kind: DatabaseKind, work: Path) -> Iterator[Installation]:
    with empty_url(kind, options.scratch, options.postgres_url, NAME) as url:
        start = time.perf_counter()
        made = install(work / "yiwang-data", url)
        options.console.print(f"installed in {time.perf_counter() - start:.1f} s; spec bytes {made.spec_bytes}")
        try:
            yield made
        finally:
            made.database.dispose()


def measure(options: Options, kind: DatabaseKind, made: Installation, size: WorkflowSize) -> list[Figure]:
    services = [SERVICES[i % len(SERVICES)] for i in range(size.applications)]
    per_block = -(-len(services) // size.blocks)
    timings = {"yiwang": Timings(), "bare": Timings()}
    with ExitStack() as stack:
        sides: dict[str, Side] = {"yiwang": PlatformSide(made, stack), "bare": BareSide()}
        # The sides take turns in blocks, so that background load on the machine slows them alike.
        for number, first in enumerate(range(0, len(services), per_block)):
            for name in sides if number % 2 == 0 else reversed(sides):
                run_block(sides[name], services[first : first + per_block], timings[name])
    check_done(made, size.applications, timings)
    options.console.print(summary(timings))
    figures = figures_of(options, kind, made, size.applications, timings)
    if kind == "postgresql" and size.concurrent:
        figures.append(concurrency_figure(options, kind, made, size))
    if options.profile:
        profile_platform(options, made)
    return figures


def profile_platform(options: Options, made: Installation) -> None:
    """Where a submission's and a completion's time goes: ten applications of each service, then all their tasks."""
    with ExitStack() as stack:
        side = PlatformSide(made, stack)
        title = f"applications.submit + handling.complete_task, 10 × {' + '.join(SERVICES)}"
        profile(options.console, title, lambda: run_block(side, SERVICES * 10, Timings()))


def run(options: Options) -> list[Figure]:
    size = SIZES[options.size]

    def run_one(kind: DatabaseKind, work: Path) -> list[Figure]:
        with installed(options, kind, work) as made:
            return measure(options, kind, made, size)

    return per_database(options, NAME, run_one)
