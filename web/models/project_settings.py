"""A project's settings as one validated model: the only way any code reads them.

``project.settings`` is stored as a JSON document; `ProjectSettings` is its
schema. Every write is validated (``Project.settings`` refuses an invalid
document, see `web.models.project`), unknown keys are refused, and every
reader goes through `ProjectSettings.of`, so a typo can never be stored and a
bad value never silently falls back to a default.

One threshold per decision (``docs``: README "Project settings"):

* ``detector.min_rel_change`` (default 0.02) is the smallest relative change
  worth reporting. Alert detection, PR reports, the compare page,
  confirmation and bisection all use it (it is also the detector's
  ``compare_min_rel_change``), so a user sees the same number everywhere.
* The other ``detector.*`` keys override the matching `detector.types.Thresholds`
  fields for the same consumers.

Legacy documents stored before validation existed are read as they are; when one
no longer validates, `of` raises `ProjectSettingsError` naming the key and the
command that fixes it, instead of guessing (``benchwarden project show P``).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from detector.types import Thresholds

DEFAULT_MACHINES = ("default",)
DEFAULT_CONFIRM_REPEATS = 5
DEFAULT_BISECT_REPEATS = 10
DEFAULT_MIN_REL_CHANGE = 0.02
DEFAULT_OVERRIDE_LABEL = "benchwarden-override"
DEFAULT_PROFILE_COMMITS = 100  # commits per series whose profiles are kept
# The thresholds every consumer starts from; see the module docstring.
DEFAULT_THRESHOLDS = Thresholds(
    min_rel_change=DEFAULT_MIN_REL_CHANGE, compare_min_rel_change=DEFAULT_MIN_REL_CHANGE
)

MachineName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]


class ProjectSettingsError(ValueError):
    """Settings that do not validate; the message names the key (``detector.alpha: ...``)."""


class _HasSettings(Protocol):
    name: str
    settings: dict[str, object]


_Strict = ConfigDict(extra="forbid", frozen=True)


class DetectorSettings(BaseModel):
    """``detector``: overrides of `detector.types.Thresholds` fields (documented there).

    ``compare_min_rel_change`` is not a key: it follows ``min_rel_change``.
    """

    model_config = _Strict
    alpha: float | None = None
    min_segment: int | None = None
    min_effect_sigma: float | None = None
    min_rel_change: float | None = None
    max_autocorrelation: float | None = None
    noise_window: int | None = None
    bimodal_explained: float | None = None
    bimodal_min_fraction: float | None = None
    drift_sigma: float | None = None
    compare_alpha: float | None = None
    fdr: float | None = None
    ci_level: float | None = None
    power: float | None = None
    bootstrap_resamples: int | None = None
    seed: int | None = None


class GitHubSettings(BaseModel):
    """``github``: where PR reports and statuses go; secrets preferably by variable name."""

    model_config = _Strict
    repo: str = Field(description="owner/name")
    api_url: str | None = None
    token: str | None = Field(default=None, repr=False)
    token_env: str | None = None
    app_id: int | None = None
    installation_id: int | None = None
    private_key: str | None = Field(default=None, repr=False)
    private_key_env: str | None = None
    private_key_path: str | None = None
    override_label: str | None = None
    checks: Literal["auto", "status"] = "auto"

    @field_validator("repo")
    @classmethod
    def _owner_name(cls, repo: str) -> str:
        if repo.count("/") != 1 or not all(repo.split("/")) or any(c.isspace() for c in repo):
            raise ValueError("must look like owner/name")
        return repo

    @model_validator(mode="before")
    @classmethod
    def _no_own_threshold(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "threshold" in data:
            raise ValueError(
                "github.threshold was replaced by detector.min_rel_change,"
                " the one threshold of alerts and PR reports"
            )
        return data


class WebhookSettings(BaseModel):
    """One ``webhooks`` entry: a URL that receives new alert summaries."""

    model_config = _Strict
    url: str = Field(pattern=r"^https?://")
    secret: str | None = Field(default=None, repr=False)
    secret_env: str | None = None
    format: Literal["json", "slack"] = "json"


class NotifySettings(BaseModel):
    model_config = _Strict
    require_confirmation: bool = False


class ProjectSettings(BaseModel):
    """The typed ``project.settings``; unset keys take the documented defaults."""

    model_config = _Strict
    machines: list[MachineName] = Field(default=list(DEFAULT_MACHINES), min_length=1)
    detector: DetectorSettings = Field(default_factory=DetectorSettings)
    confirm_repeats: int = Field(default=DEFAULT_CONFIRM_REPEATS, ge=1, le=1000)
    bisect_repeats: int = Field(default=DEFAULT_BISECT_REPEATS, ge=1, le=1000)
    # Improvements at least this large (relative) are confirmed and bisected like
    # regressions, so a speed-up gets its commit too; None: only regressions.
    bisect_improvements: float | None = Field(default=0.10, ge=0, le=10)
    github: GitHubSettings | None = None
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    # Which declaration wins when a commit has its own file and the project stores
    # suites (`benchwarden project suites`): "commit" (default) or "project".
    suites_source: Literal["commit", "project"] = "commit"
    # Per-function profiles kept per series: those of its latest N commits (0: none
    # kept); older ones are pruned as new runs arrive. About 10 kB per result.
    profile_commits: int = Field(default=DEFAULT_PROFILE_COMMITS, ge=0, le=100_000)

    @model_validator(mode="after")
    def _thresholds_valid(self) -> ProjectSettings:
        try:
            self.thresholds()
        except ValueError as exc:
            raise ValueError(str(exc).replace("Thresholds.", "detector.")) from None
        return self

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> ProjectSettings:
        """Validate a settings document; raise `ProjectSettingsError` naming the first bad key."""
        try:
            return cls.model_validate(dict(raw or {}))
        except ValidationError as exc:
            raise ProjectSettingsError(_describe(exc)) from None

    @classmethod
    def of(cls, project: _HasSettings) -> ProjectSettings:
        """The settings of ``project``; a stored document that no longer validates raises."""
        try:
            return cls.parse(project.settings)
        except ProjectSettingsError as exc:
            raise ProjectSettingsError(
                f"project {project.name!r} has invalid settings: {exc};"
                f" fix with `benchwarden project set {project.name} KEY=VALUE`"
                " (an empty VALUE removes the key)"
            ) from None

    def stored(self) -> dict[str, object]:
        """The JSON document to store: only the keys that were given, normalized."""
        return self.model_dump(mode="json", exclude_unset=True)

    def thresholds(self) -> Thresholds:
        """`Thresholds` for detection and every comparison, with this project's overrides."""
        overrides = self.detector.model_dump(exclude_none=True)
        rel = overrides.get("min_rel_change", DEFAULT_THRESHOLDS.min_rel_change)
        return dataclasses.replace(DEFAULT_THRESHOLDS, **overrides, compare_min_rel_change=rel)

    @property
    def min_rel_change(self) -> float:
        """The one threshold of "a change worth reporting" (alerts, PR reports, compare)."""
        return self.thresholds().min_rel_change


def _describe(exc: ValidationError) -> str:
    """``key.path: what is wrong`` for the first error, in words a user can act on."""
    error = exc.errors()[0]
    key = ".".join(str(p) for p in error["loc"]) or "settings"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown setting{_known(error['loc'][:-1])}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["loc"] == ():
        return message
    return f"{key}: {message} (got {error['input']!r})"


def _known(parent: tuple[int | str, ...]) -> str:
    model: type[BaseModel] | None = ProjectSettings
    for part in parent:
        if isinstance(part, int):  # a list index: the item's model is the list's
            continue
        field = model.model_fields.get(str(part)) if model else None
        model = _model_of(field.annotation) if field else None
    if model is None:
        return ""
    return f" (known: {', '.join(model.model_fields)})"


def _model_of(annotation: object) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for inner in typing.get_args(candidate):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def assign(document: Mapping[str, Any] | None, key: str, text: str) -> dict[str, Any]:
    """``document`` with ``key`` (dotted: ``detector.alpha``) set from command-line ``text``.

    An empty ``text`` removes the key (back to its default); ``[...]`` and ``{...}``
    are JSON; a list setting also takes ``a,b``. Everything else is passed as text
    and converted by the model, so `ProjectSettings.parse` of the result is what
    validates it and names a bad key or value.
    """
    path = [part for part in key.split(".") if part]
    if not path:
        raise ProjectSettingsError(f"{key!r}: give a setting name, e.g. detector.min_rel_change")
    out: dict[str, Any] = json.loads(json.dumps(dict(document or {})))
    parent = out
    for part in path[:-1]:
        child = parent.get(part)
        parent[part] = child = dict(child) if isinstance(child, dict) else {}
        parent = child
    if text == "":
        parent.pop(path[-1], None)
        return _pruned(out)
    parent[path[-1]] = _value(path, text)
    return out


def _value(path: list[str], text: str) -> Any:
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ProjectSettingsError(f"{'.'.join(path)}: not valid JSON ({exc})") from None
    field = ProjectSettings.model_fields.get(path[0]) if len(path) == 1 else None
    if field is not None and typing.get_origin(field.annotation) is list:
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def _pruned(document: dict[str, Any]) -> dict[str, Any]:
    """Drop objects left empty by a removal (``detector: {}`` means nothing)."""
    return {k: v for k, v in document.items() if v != {}}
