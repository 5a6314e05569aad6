"""A decoded JSON answer -> typed records, refused with the call named: the one place a payload is judged.

A whole answer of the wrong shape raises NepseSchemaError; one bad row of a list raises NepseRowError
naming the row, the field, the value and what is wrong with it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ntx_assets.nepse.errors import NepseRowError, NepseSchemaError, validation_summary
from ntx_assets.nepse.transport import Call

M = TypeVar("M", bound=BaseModel)


def parse_one(call: Call, model: type[M], data: Any, *, refusal: str | None = None) -> M:
    """`data` as one `model`; `refusal` says what the answer is not (default: "an expected <model>")."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _schema_error(
            call, f"{refusal or f'returned an unexpected {model.__name__}'}: {validation_summary(exc)}"
        ) from exc


def parse_rows(call: Call, model: type[M], data: Any) -> list[M]:
    """`data`, a JSON list, as `model` rows, every row judged."""
    if not isinstance(data, list):
        raise _schema_error(call, f"returned {type(data).__name__}, expected a list of {model.__name__}")
    parsed: list[M] = []
    for index, row in enumerate(data):
        try:
            parsed.append(model.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise NepseRowError(
                f"NEPSE {call.describe()}: row {index} is not a valid {model.__name__}: "
                f"{validation_summary(exc)}",
                row=row,
                field=".".join(str(part) for part in first["loc"]),
                value=first.get("input"),
                problem=first["msg"],
                endpoint=call.endpoint,
                params=call.shown_params,
                attempts=1,
            ) from exc
    return parsed


def _schema_error(call: Call, problem: str) -> NepseSchemaError:
    return NepseSchemaError(
        f"NEPSE {call.describe()} {problem}", endpoint=call.endpoint, params=call.shown_params, attempts=1
    )
