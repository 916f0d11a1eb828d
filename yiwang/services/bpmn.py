"""BPMN 2.0 processes of service items: reading an uploaded file safely, and writing the ones the platform makes.

An uploaded file is parsed without DTDs or entities (no XXE, no billion laughs), validated against the BPMN 2.0 XSD
that SpiffWorkflow ships, and accepted only if it is one executable process made of the elements yiwang runs:
start/end events, user tasks (each in a lane named after the department that does it), script tasks, exclusive,
inclusive and parallel gateways, sequence flows. Every condition and script must pass the restricted evaluator.
Files written here carry a diagram (BPMN DI) so bpmn.io and Camunda Modeler open them as drawn.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
from SpiffWorkflow.exceptions import SpiffWorkflowException

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.services import evaluator

MAX_BPMN_BYTES = 1024 * 1024
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
_B = f"{{{BPMN}}}"

# Flow elements a yiwang process may contain; anything else (service tasks calling out, call activities, timers…)
# is refused with its name so the modeller knows what to remove.
ALLOWED_ELEMENTS = frozenset(
    {
        "process",
        "startEvent",
        "endEvent",
        "userTask",
        "scriptTask",
        "task",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "sequenceFlow",
        "laneSet",
        "lane",
        "documentation",
        "extensionElements",
        "incoming",
        "outgoing",
        "conditionExpression",
        "script",
        "flowNodeRef",
        "textAnnotation",
        "association",
        "text",
    }
)


@dataclass(frozen=True)
class UserStep:
    """A user task: the step's id in the BPMN file, its name, and the lane (department) doing it."""

    id: str
    name: str
    lane: str


@dataclass(frozen=True)
class ParsedProcess:
    """A checked process: its id and name, its user steps, and what defines its meaning (for comparisons)."""

    process_id: str
    name: str
    steps: tuple[UserStep, ...]
    meaning: dict[str, Any] = field(compare=False)


def _invalid(message: str, **params: object) -> InvalidInput:
    return InvalidInput("bpmn.invalid", message, **params)


def _safe_tree(xml: bytes) -> etree._Element:
    if len(xml) > MAX_BPMN_BYTES:
        raise _invalid(N_("The BPMN file is larger than {limit} KiB"), limit=MAX_BPMN_BYTES // 1024)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        raise _invalid(N_("The BPMN file is not well-formed XML: {detail}"), detail=str(error)[:200]) from None
    if root.getroottree().docinfo.doctype:
        raise _invalid(N_("The BPMN file may not contain a DOCTYPE declaration"))
    if root.tag != f"{_B}definitions":
        raise _invalid(N_("This is not a BPMN 2.0 file: its root element is not bpmn:definitions"))
    return root


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def parse(xml: bytes) -> ParsedProcess:
    """Check an uploaded BPMN file; raise `InvalidInput` (``bpmn.invalid``) saying exactly what is wrong."""
    root = _safe_tree(xml)
    processes = [p for p in root.iter(f"{_B}process") if p.get("isExecutable", "false") == "true"]
    if len(processes) != 1:
        raise _invalid(
            N_("The BPMN file must contain exactly one executable process (found {count})"), count=len(processes)
        )
    process = processes[0]
    for element in process.iter():
        name = _local(element.tag)
        if name and element.tag.startswith(_B) and name not in ALLOWED_ELEMENTS:
            raise _invalid(
                N_("The BPMN element {element} (id {id}) is not supported in service processes"),
                element=name,
                id=element.get("id", "?"),
            )
    _check_graph(process)
    for condition in process.iter(f"{_B}conditionExpression"):
        evaluator.check_expression(condition.text or "")
    for script in process.iter(f"{_B}script"):
        evaluator.check_script(script.text or "")
    lanes = {
        ref.text.strip(): lane.get("name", "").strip()
        for lane in process.iter(f"{_B}lane")
        for ref in lane.iter(f"{_B}flowNodeRef")
        if ref.text
    }
    steps = []
    for task in process.iter(f"{_B}userTask"):
        task_id = task.get("id", "")
        if not lanes.get(task_id):
            raise _invalid(
                N_("The user task {id} is in no named lane: name the lane after the department that does it"),
                id=task_id,
            )
        steps.append(UserStep(task_id, task.get("name", "") or task_id, lanes[task_id]))
    if not steps:
        raise _invalid(N_("The process has no user task: someone must handle the application"))
    _spiff_check(root, process.get("id", ""))
    return ParsedProcess(
        process_id=process.get("id", ""),
        name=process.get("name", "") or process.get("id", ""),
        steps=tuple(steps),
        meaning=_meaning(process),
    )


def _check_graph(process: etree._Element) -> None:
    """One start event, and every flow joins two elements that exist (the XSD does not check references)."""
    starts = list(process.iter(f"{_B}startEvent"))
    if len(starts) != 1:
        raise _invalid(N_("The process must have exactly one start event (found {count})"), count=len(starts))
    ids = {element.get("id") for element in process.iter() if element.get("id")}
    for flow in process.iter(f"{_B}sequenceFlow"):
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                raise _invalid(
                    N_("The sequence flow {id} points to {ref}, which is not in the process"),
                    id=flow.get("id", "?"),
                    ref=flow.get(end, ""),
                )


@functools.cache
def _validator() -> BpmnValidator:
    """The BPMN 2.0 XSD validator: compiling the schema takes ~0.1 s, so it is built once."""
    return BpmnValidator()


def _spiff_check(root: etree._Element, process_id: str) -> None:
    """The engine's own reading: XSD validation and a parse into a runnable spec."""
    parser = BpmnParser(validator=_validator())
    try:
        parser.add_bpmn_xml(etree.ElementTree(root), filename=f"{process_id}.bpmn")
        parser.get_spec(process_id)
    except (SpiffWorkflowException, etree.LxmlError, ValueError, KeyError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _invalid(N_("The workflow engine cannot run this BPMN file: {detail}"), detail=detail[:300]) from None


def _meaning(process: etree._Element) -> dict[str, Any]:
    """What a process does, independent of layout and formatting: nodes, lanes, flows and their conditions."""
    lanes = {
        ref.text.strip(): lane.get("name", "")
        for lane in process.iter(f"{_B}lane")
        for ref in lane.iter(f"{_B}flowNodeRef")
        if ref.text
    }
    nodes = {}
    flows = []
    for element in process:
        kind = _local(element.tag)
        if kind in ("laneSet", "documentation", "extensionElements", "textAnnotation", "association"):
            continue
        if kind == "sequenceFlow":
            condition = element.find(f"{_B}conditionExpression")
            flows.append(
                (
                    element.get("sourceRef"),
                    element.get("targetRef"),
                    (condition.text or "").strip() if condition is not None else None,
                )
            )
            continue
        script = element.find(f"{_B}script")
        nodes[element.get("id")] = {
            "type": kind,
            "name": element.get("name", ""),
            "lane": lanes.get(element.get("id", ""), ""),
            "default": element.get("default"),
            "script": (script.text or "").strip() if script is not None else None,
        }
    return {"id": process.get("id"), "nodes": nodes, "flows": sorted(flows, key=lambda f: tuple(map(str, f)))}


def spec_parser(xml: bytes) -> BpmnParser:
    """A SpiffWorkflow parser holding the (already checked) file."""
    parser = BpmnParser(validator=_validator())
    parser.add_bpmn_xml(etree.ElementTree(_safe_tree(xml)), filename="process.bpmn")
    return parser


# --- writing ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a generated process: a user task done by a department."""

    id: str
    name: str
    department: str


@dataclass(frozen=True)
class ConditionalStep:
    """A step done only when a condition over the form holds (an exclusive gateway before it)."""

    step: Step
    condition: str
    after: str  # the id of the step it follows


@dataclass
class _Layout:
    lanes: list[str] = field(default_factory=list)
    shapes: list[tuple[str, str, int, int]] = field(default_factory=list)  # id, kind, column, lane index
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # id, source, target

    LANE_HEIGHT = 120
    COLUMN_WIDTH = 150
    LEFT = 190
    TOP = 80

    def lane(self, department: str) -> int:
        if department not in self.lanes:
            self.lanes.append(department)
        return self.lanes.index(department)

    def box(self, kind: str, column: int, lane: int) -> tuple[int, int, int, int]:
        width, height = {"task": (100, 80), "gateway": (50, 50), "event": (36, 36)}[kind]
        x = self.LEFT + column * self.COLUMN_WIDTH + (100 - width) // 2
        y = self.TOP + lane * self.LANE_HEIGHT + (self.LANE_HEIGHT - height) // 2
        return x, y, width, height


def build(
    process_id: str,
    name: str,
    steps: Sequence[Step],
    *,
    parallel: bool = False,
    conditional: Sequence[ConditionalStep] = (),
) -> bytes:
    """A BPMN 2.0 file with diagram: `steps` one after another, or all at once between a parallel fork and join."""
    layout = _Layout()
    elements: list[str] = []
    lane_of: dict[str, str] = {}

    def node(element_id: str, xml: str, kind: str, column: int, department: str) -> None:
        elements.append(xml)
        lane_of[element_id] = department
        layout.shapes.append((element_id, kind, column, layout.lane(department)))

    def flow(source: str, target: str, condition: str | None = None) -> str:
        flow_id = f"Flow_{len(layout.edges) + 1}"
        body = (
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}'
            "</bpmn:conditionExpression>"
            if condition
            else ""
        )
        elements.append(
            f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{body}</bpmn:sequenceFlow>'
        )
        layout.edges.append((flow_id, source, target))
        return flow_id

    def task(step: Step, column: int) -> None:
        node(step.id, f'<bpmn:userTask id="{step.id}" name={quoteattr(step.name)} />', "task", column, step.department)

    first_department = steps[0].department
    node("StartEvent_1", '<bpmn:startEvent id="StartEvent_1" name="提交申请" />', "event", 0, first_department)
    column = 1
    if parallel:
        node("Fork", '<bpmn:parallelGateway id="Fork" />', "gateway", column, first_department)
        flow("StartEvent_1", "Fork")
        for step in steps:
            task(step, column + 1)
            flow("Fork", step.id)
        node("Join", '<bpmn:parallelGateway id="Join" />', "gateway", column + 2, first_department)
        for step in steps:
            flow(step.id, "Join")
        last, column = "Join", column + 3
    else:
        by_after = {c.after: c for c in conditional}
        last = "StartEvent_1"
        for step in steps:
            task(step, column)
            flow(last, step.id)
            last, column = step.id, column + 1
            extra = by_after.get(step.id)
            if extra is None:
                continue
            gateway, merge = f"Gateway_{step.id}", f"Merge_{step.id}"
            skip = f"Flow_{len(layout.edges) + 3}"  # the default flow, the third written below
            node(
                gateway,
                f'<bpmn:exclusiveGateway id="{gateway}" default="{skip}" />',
                "gateway",
                column,
                step.department,
            )
            flow(last, gateway)
            task(extra.step, column + 1)
            flow(gateway, extra.step.id, extra.condition)
            node(merge, f'<bpmn:exclusiveGateway id="{merge}" />', "gateway", column + 2, step.department)
            assert flow(gateway, merge) == skip
            flow(extra.step.id, merge)
            last, column = merge, column + 3
    node("EndEvent_1", '<bpmn:endEvent id="EndEvent_1" name="办结" />', "event", column, lane_of[last])
    flow(last, "EndEvent_1")
    return _document(process_id, name, elements, lane_of, layout)


def _document(process_id: str, name: str, elements: list[str], lane_of: dict[str, str], layout: _Layout) -> bytes:
    lanes_xml = []
    for index, department in enumerate(layout.lanes):
        refs = "".join(f"<bpmn:flowNodeRef>{e}</bpmn:flowNodeRef>" for e, d in lane_of.items() if d == department)
        lanes_xml.append(f'<bpmn:lane id="Lane_{index + 1}" name={quoteattr(department)}>{refs}</bpmn:lane>')
    columns = 1 + max(column for _id, _kind, column, _lane in layout.shapes)
    pool_width = 60 + columns * layout.COLUMN_WIDTH
    pool_height = layout.LANE_HEIGHT * len(layout.lanes)
    left = layout.LEFT - 60
    shapes = [
        f'<bpmndi:BPMNShape id="Participant_di" bpmnElement="Participant" isHorizontal="true">'
        f'<dc:Bounds x="{left - 30}" y="{layout.TOP}" width="{pool_width + 30}" height="{pool_height}" />'
        "</bpmndi:BPMNShape>"
    ]
    for index in range(len(layout.lanes)):
        shapes.append(
            f'<bpmndi:BPMNShape id="Lane_{index + 1}_di" bpmnElement="Lane_{index + 1}" isHorizontal="true">'
            f'<dc:Bounds x="{left}" y="{layout.TOP + index * layout.LANE_HEIGHT}" width="{pool_width}" '
            f'height="{layout.LANE_HEIGHT}" /></bpmndi:BPMNShape>'
        )
    centres: dict[str, tuple[int, int, int]] = {}
    for element_id, kind, column, lane in layout.shapes:
        x, y, width, height = layout.box(kind, column, lane)
        centres[element_id] = (x, y + height // 2, width)
        marker = ' isMarkerVisible="true"' if element_id.startswith(("Gateway_", "Merge_")) else ""
        shapes.append(
            f'<bpmndi:BPMNShape id="{element_id}_di" bpmnElement="{element_id}"{marker}>'
            f'<dc:Bounds x="{x}" y="{y}" width="{width}" height="{height}" /></bpmndi:BPMNShape>'
        )
    for flow_id, source, target in layout.edges:
        sx, sy, sw = centres[source]
        tx, ty, _tw = centres[target]
        points = (
            [(sx + sw, sy), (tx, ty)] if sy == ty else [(sx + sw, sy), (sx + sw + 20, sy), (sx + sw + 20, ty), (tx, ty)]
        )
        waypoints = "".join(f'<di:waypoint x="{x}" y="{y}" />' for x, y in points)
        shapes.append(f'<bpmndi:BPMNEdge id="{flow_id}_di" bpmnElement="{flow_id}">{waypoints}</bpmndi:BPMNEdge>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:bpmndi="{BPMNDI}" xmlns:dc="{DC}" xmlns:di="{DI}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_1" '
        'targetNamespace="https://yiwang.example/bpmn" exporter="yiwang" exporterVersion="1">\n'
        f'<bpmn:collaboration id="Collaboration_1"><bpmn:participant id="Participant" name={quoteattr(name)} '
        f'processRef="{process_id}" /></bpmn:collaboration>\n'
        f'<bpmn:process id="{process_id}" name={quoteattr(name)} isExecutable="true">\n'
        f'<bpmn:laneSet id="LaneSet_1">{"".join(lanes_xml)}</bpmn:laneSet>\n'
        + "\n".join(elements)
        + "\n</bpmn:process>\n"
        '<bpmndi:BPMNDiagram id="Diagram_1"><bpmndi:BPMNPlane id="Plane_1" bpmnElement="Collaboration_1">'
        + "".join(shapes)
        + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
    ).encode("utf-8")
