"""What a section of the operator's settings is, and how one setting is declared.

A setting is a field of a :class:`Section` declared with :func:`setting`: its default (written there once, or taken
from the decision core's settings class, whose default it is), its meaning, and where a user sets it:

- the environment variable: the section's ``ENV_PREFIX`` plus the field's name in capitals
  (``SCRIBE_BREAKER_`` + ``threshold``), unless ``env=`` names it (or several, the first one set wins);
- the chart value that sets that variable: ``settings.<camelCase of the variable without SCRIBE_>`` (the
  deployment turns every key of ``settings`` into ``SCRIBE_<KEY IN SNAKE CASE>``), unless ``chart=`` names
  another value (``healthPort``, ``worker.image.pullPolicy``).

The settings reference (docs, the chart's values and schema) is generated from these declarations
(:mod:`.reference`), and a unit test renders the chart with a value for every setting and reads it back through
the operator's own environment parsing.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

CHART_SETTINGS = "settings"
"""The chart's map of plain settings: each key becomes ``SCRIBE_<KEY IN SNAKE CASE>``."""


def setting(
    default: Any,
    description: str,
    *,
    env: str | tuple[str, ...] | None = None,
    chart: str | None = None,
    example: Any = None,
    chart_example: Any = None,
    default_doc: str | None = None,
    chart_schema: dict[str, Any] | None = None,
    **constraints: Any,
) -> Any:
    """A setting's field. ``example``: a valid value other than the default (the chart test sets it);
    ``chart_example``: the chart value that gives ``example`` when the chart's value has another shape;
    ``default_doc``: how the reference states a default that is no value of ours (``the worker's``);
    ``chart_schema``: what the chart's schema checks beyond the type and ``constraints``."""
    meta: dict[str, Any] = {}
    if env is not None:
        meta["env"] = (env,) if isinstance(env, str) else env
    for key, value in (
        ("chart", chart),
        ("chart_example", chart_example),
        ("default_doc", default_doc),
        ("chart_schema", chart_schema),
    ):
        if value is not None:
            meta[key] = value
    return Field(
        default,
        description=description,
        examples=None if example is None else [example],
        json_schema_extra=meta or None,
        **constraints,
    )


class Section(BaseModel):
    """A group of settings, read from environment variables named ``ENV_PREFIX`` + field name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ENV_PREFIX: ClassVar[str] = "SCRIBE_"
    TITLE: ClassVar[str] = ""
    """The section's heading in the settings reference."""

    @classmethod
    def env_names(cls, name: str) -> tuple[str, ...]:
        """The environment variables of field ``name``, the one that wins first."""
        names = extra(cls.model_fields[name]).get("env")
        return tuple(names) if names else (cls.ENV_PREFIX + name.upper(),)

    @classmethod
    def env_name(cls, name: str) -> str:
        """The documented variable of field ``name``."""
        return cls.env_names(name)[0]

    @classmethod
    def chart_value(cls, name: str) -> str:
        """The chart value (a dotted path) that sets field ``name``."""
        path = extra(cls.model_fields[name]).get("chart")
        return str(path) if path else f"{CHART_SETTINGS}.{chart_key(cls.env_name(name))}"

    @classmethod
    def from_environ(cls, environ: dict[str, str]) -> dict[str, str]:
        """The fields' raw values in ``environ`` (keys in capitals): the input of validation."""
        raw: dict[str, str] = {}
        for name in cls.model_fields:
            for variable in cls.env_names(name):
                if variable in environ:
                    raw[name] = environ[variable]
                    break
        return raw


def extra(info: FieldInfo) -> dict[str, Any]:
    """A setting's declaration beyond pydantic's own (see :func:`setting`)."""
    return dict(info.json_schema_extra) if isinstance(info.json_schema_extra, dict) else {}


def chart_key(variable: str) -> str:
    """``SCRIBE_MAX_RUNNING_ATTEMPTS`` -> ``maxRunningAttempts``: the key the chart maps back to that variable."""
    first, *rest = variable.removeprefix("SCRIBE_").lower().split("_")
    return first + "".join(part.capitalize() for part in rest)


def snake_case(key: str) -> str:
    """Sprig's ``snakecase`` of a chart key (``defaultModelS3Prefix`` -> ``default_model_s3_prefix``)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()
