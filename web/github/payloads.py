"""The parts of GitHub's webhook payloads that benchwarden reads, as pydantic models.

A delivery is validated here, at the boundary, before any handler runs: a
signed body with ``"number": "abc"``, ``1e400``, a list where an object belongs
or strings where repositories belong is refused with 422 and the error
envelope, never a 500 halfway through a handler. Only the fields we use are
declared; everything else GitHub sends is ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from web.api.errors import ApiError, validation_details

# Pull request numbers are stored in an INTEGER column (PostgreSQL: 32 bits).
PrNumber = Annotated[int, Field(ge=1, le=2**31 - 1)]
Name = Annotated[str, Field(max_length=1000)]
Sha = Annotated[str, Field(max_length=100)]
MAX_REPOSITORIES = 10_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Repository(_Model):
    full_name: Name = ""


class Event(_Model):
    """What every event carries: ``ping`` needs no more."""

    action: Name = ""
    repository: Repository | None = None

    @property
    def repo_name(self) -> str:
        return self.repository.full_name if self.repository else ""


class PushEvent(Event):
    ref: Name = ""
    after: Sha = ""
    deleted: bool | None = None


class GitRef(_Model):
    sha: Sha = ""


class PullRequest(_Model):
    number: PrNumber | None = None
    base: GitRef | None = None
    head: GitRef | None = None


class Label(_Model):
    name: Name = ""


class PullRequestEvent(Event):
    number: PrNumber | None = None
    pull_request: PullRequest | None = None
    label: Label | None = None

    @property
    def pr_number(self) -> int:
        """The PR's number, from the event or its pull request; 0 when neither says."""
        return self.number or (self.pull_request.number if self.pull_request else None) or 0


class Installation(_Model):
    id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None


Repositories = Annotated[list[Repository] | None, Field(max_length=MAX_REPOSITORIES)]


class InstallationEvent(Event):
    """``installation`` and ``installation_repositories`` events."""

    installation: Installation | None = None
    repositories: Repositories = None
    repositories_added: Repositories = None
    repositories_removed: Repositories = None


MODELS: dict[str, type[Event]] = {
    "ping": Event,
    "push": PushEvent,
    "pull_request": PullRequestEvent,
    "installation": InstallationEvent,
    "installation_repositories": InstallationEvent,
}


def parse_event(event: str, payload: dict[str, Any]) -> Event:
    """The typed payload of a handled ``event``; 422 with the envelope when it does not fit."""
    try:
        return MODELS[event].model_validate(payload)
    except ValidationError as exc:
        raise ApiError(
            422,
            "invalid_payload",
            f"the {event} payload does not have the shape GitHub sends",
            validation_details(exc),
        ) from None
