"""OpenAPI links: which calls can follow an answer, and which of its values they take (for clients and fuzzers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Link:
    """A call that can follow an answer: the target operation and where each of its inputs comes from.

    Values are OpenAPI runtime expressions: `$response.body#/id` (a JSON Pointer into the answer),
    `$request.path.name` (a path parameter of the call answered). A request body may nest them.
    """

    method: str
    path: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    request_body: Any = None
    description: str = ""

    @property
    def operation_ref(self) -> str:
        """The target as a JSON Pointer into this document's `paths` (RFC 6901 escapes `~` and `/`), written as a
        URI fragment, so the braces of path templates are percent-encoded."""
        escaped = self.path.replace("~", "~0").replace("/", "~1")
        return f"#/paths/{quote(escaped, safe='~')}/{self.method.lower()}"

    def as_openapi(self) -> dict[str, Any]:
        """The Link Object of OpenAPI 3.1."""
        link: dict[str, Any] = {"operationRef": self.operation_ref}
        if self.parameters:
            link["parameters"] = dict(self.parameters)
        if self.request_body is not None:
            link["requestBody"] = self.request_body
        if self.description:
            link["description"] = self.description
        return link


def linked(status: int, **links: Link) -> dict[int | str, dict[str, Any]]:
    """The `responses=` argument of a route whose `status` answer can be followed by `links` (named by keyword)."""
    return {status: {"links": {name: link.as_openapi() for name, link in links.items()}}}


def from_body(pointer: str) -> str:
    """A value of the answer's JSON body: `from_body("/id")` is `$response.body#/id`."""
    return f"$response.body#{pointer}"


def from_path(name: str) -> str:
    """A path parameter of the call that was answered."""
    return f"$request.path.{name}"


# --- the links of the platform's API, by the operation whose answer they follow --------------------------------------
# Kept here, one table per domain, so a reader sees the workflows in one place; routes attach them with `linked(...)`.

DATASET = "/api/v1/datasets/{name}"


def dataset_links(name: str) -> dict[str, Link]:
    """What can follow an answer naming a dataset (`name` is the expression giving the dataset's name)."""
    by_name = {"name": name}
    return {
        "ReadDataset": Link("GET", DATASET, by_name, description="The dataset's metadata, fields and versions."),
        "UploadVersion": Link("POST", f"{DATASET}/versions", by_name, description="Upload its data."),
        "ClassifyDataset": Link("PUT", f"{DATASET}/classification", by_name),
        "ConfirmFieldKinds": Link("PUT", f"{DATASET}/field-kinds", by_name),
        "ReadRows": Link("GET", f"{DATASET}/rows", by_name, description="Its rows (once a version is uploaded)."),
    }


def request_data_links() -> dict[str, Link]:
    """What can follow a dataset's detail: ask its owner for its first field (the body is merged into yours)."""
    return {
        "RequestData": Link(
            "POST",
            "/api/v1/sharing/requests",
            request_body={"dataset": from_body("/name"), "fields": [from_body("/fields/0/name")]},
            description="Ask the owner department for fields of this dataset.",
        )
    }


def sharing_request_links(request_id: str) -> dict[str, Link]:
    """What can follow an answer naming a sharing request."""
    by_id = {"request_id": request_id}
    base = "/api/v1/sharing/requests/{request_id}"
    return {
        "ReadRequest": Link("GET", base, by_id),
        "ApproveRequest": Link("POST", f"{base}/approve", by_id, description="The owner department approves."),
        "RefuseRequest": Link("POST", f"{base}/refuse", by_id, description="The owner department refuses."),
        "WithdrawRequest": Link("POST", f"{base}/withdraw", by_id, description="The consumer withdraws."),
    }


def grant_links(grant_id: str) -> dict[str, Link]:
    """What can follow an answer naming a grant: read it, use it through the exchange API, revoke it."""
    by_id = {"grant_id": grant_id}
    return {
        "ReadGrant": Link("GET", "/api/v1/grants/{grant_id}", by_id),
        "ReadGrantUsage": Link("GET", "/api/v1/grants/{grant_id}/usage", by_id),
        "ReadGrantedRows": Link("GET", "/api/v1/exchange/{grant_id}/rows", by_id),
        "LookUpGrantedRows": Link("GET", "/api/v1/exchange/{grant_id}/lookup", by_id),
        "ExportGrantedRows": Link("GET", "/api/v1/exchange/{grant_id}/export.{fmt}", by_id),
        "RevokeGrant": Link("POST", "/api/v1/grants/{grant_id}/revoke", by_id),
    }


def track_links(track_id: str) -> dict[str, Link]:
    """What can follow an answer naming a sandbox track."""
    base = "/api/v1/sandbox/tracks/{track_id}"
    return {
        "ReadTrack": Link("GET", base, {"track_id": track_id}),
        "ApplyToTrack": Link("POST", f"{base}/applications", {"track_id": track_id}, description="Enterprises apply."),
        **track_work_links(track_id),
    }


def track_work_links(track_id: str) -> dict[str, Link]:
    """What an approved applicant does on a track: private queries, its releases, a de-identified export."""
    by_id = {"track_id": track_id}
    base = "/api/v1/sandbox/tracks/{track_id}"
    return {
        "RunPrivateQuery": Link("POST", f"{base}/queries", by_id, description="Spend budget on an aggregate query."),
        "ListReleases": Link("GET", f"{base}/releases", by_id),
        "ExportDeidentified": Link("POST", f"{base}/exports", by_id),
    }


def export_links(export_id: str) -> dict[str, Link]:
    """What can follow a de-identified export: download it, publish it as a data product."""
    return {
        "DownloadExport": Link("GET", "/api/v1/sandbox/exports/{export_id}.{fmt}", {"export_id": export_id}),
        "PublishExport": Link("POST", "/api/v1/sandbox/products", request_body={"source": "export", "id": export_id}),
    }


def release_links(release_id: str) -> dict[str, Link]:
    """What can follow a private query's release: publish its figures as a data product."""
    return {
        "PublishRelease": Link("POST", "/api/v1/sandbox/products", request_body={"source": "release", "id": release_id})
    }


def track_application_links(application_id: str) -> dict[str, Link]:
    """What can follow an answer naming an application to a track."""
    by_id = {"application_id": application_id}
    base = "/api/v1/sandbox/applications/{application_id}"
    return {
        "ReadTrackApplication": Link("GET", base, by_id),
        "ApproveTrackApplication": Link("POST", f"{base}/approve", by_id, description="The host department approves."),
        "RefuseTrackApplication": Link("POST", f"{base}/refuse", by_id),
    }


def service_links(code: str) -> dict[str, Link]:
    """What can follow an answer naming a service item."""
    by_code = {"code": code}
    base = "/api/v1/services/{code}"
    return {
        "ReadService": Link("GET", base, by_code),
        "UpdateService": Link("PUT", base, by_code),
        "ExportProcess": Link("GET", f"{base}/process.bpmn", by_code),
        "ImportProcess": Link("PUT", f"{base}/process.bpmn", by_code),
        "ApplyOnline": Link("POST", f"{base}/applications", by_code, description="Citizens and enterprises apply."),
    }


def application_links(application_id: str) -> dict[str, Link]:
    """What can follow an answer naming an application for a service."""
    by_id = {"application_id": application_id}
    return {
        "ReadApplication": Link("GET", "/api/v1/applications/{application_id}", by_id),
        "RateApplication": Link("POST", "/api/v1/applications/{application_id}/rating", by_id),
    }


def task_links(task_id: str) -> dict[str, Link]:
    """What can follow an answer naming a task of a department's inbox."""
    by_id = {"task_id": task_id}
    return {
        "ClaimTask": Link("POST", "/api/v1/tasks/{task_id}/claim", by_id),
        "CompleteTask": Link("POST", "/api/v1/tasks/{task_id}/complete", by_id),
    }


def rectification_links(rectification_id: str) -> dict[str, Link]:
    """What can follow an answer naming a rectification (opened by a bad rating)."""
    by_id = {"rectification_id": rectification_id}
    base = "/api/v1/rectifications/{rectification_id}"
    return {
        "ExplainRectification": Link("POST", f"{base}/explain", by_id),
        "AppealRectification": Link("POST", f"{base}/appeal", by_id),
        "ReviewRectification": Link("POST", f"{base}/review", by_id),
    }


def service_guide_links() -> dict[str, Link]:
    """What can follow a service guide: apply with the guide's own example application (merged into yours)."""
    return {
        "ApplyWithExample": Link(
            "POST",
            "/api/v1/services/{code}/applications",
            {"code": from_body("/code")},
            request_body=from_body("/example_application"),
            description="Submit the guide's example application.",
        )
    }


def application_detail_links() -> dict[str, Link]:
    """What can follow an application's progress: handle its first task, read its first material, rate it."""
    return {
        **task_links(from_body("/tasks/0/id")),
        "ReadMaterial": Link(
            "GET",
            "/api/v1/applications/{application_id}/materials/{code}",
            {"application_id": from_body("/id"), "code": from_body("/materials/0/code")},
        ),
        "RateApplication": Link(
            "POST", "/api/v1/applications/{application_id}/rating", {"application_id": from_body("/id")}
        ),
    }


def claimed_task_links() -> dict[str, Link]:
    """What can follow claiming a task: complete it, see its application."""
    return {
        "CompleteTask": Link("POST", "/api/v1/tasks/{task_id}/complete", {"task_id": from_path("task_id")}),
        "ReadApplication": Link(
            "GET", "/api/v1/applications/{application_id}", {"application_id": from_body("/application_id")}
        ),
    }


def token_links(token_id: str) -> dict[str, Link]:
    """What can follow an answer naming an API token."""
    return {"RevokeToken": Link("DELETE", "/api/v1/tokens/{token_id}", {"token_id": token_id})}
