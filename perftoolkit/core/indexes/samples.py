"""Sample parameter sets as JSON: typed values survive the round trip so EXPLAIN can reuse them."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

_TYPED = "__perftoolkit__"


def encode_param(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return {_TYPED: "datetime", "value": value.isoformat()}
    if isinstance(value, dt.date):
        return {_TYPED: "date", "value": value.isoformat()}
    if isinstance(value, dt.time):
        return {_TYPED: "time", "value": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {_TYPED: "timedelta", "value": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {_TYPED: "decimal", "value": str(value)}
    if isinstance(value, uuid.UUID):
        return {_TYPED: "uuid", "value": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {_TYPED: "bytes", "value": bytes(value).hex()}
    if isinstance(value, list | tuple):
        return [encode_param(v) for v in value]
    return {_TYPED: "str", "value": str(value)}


def decode_param(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_param(v) for v in value]
    if not isinstance(value, dict) or _TYPED not in value:
        return value
    kind, raw = value[_TYPED], value["value"]
    decoders: dict[str, Any] = {
        "datetime": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
        "timedelta": lambda s: dt.timedelta(seconds=s),
        "decimal": decimal.Decimal,
        "uuid": uuid.UUID,
        "bytes": bytes.fromhex,
        "str": str,
    }
    return decoders[kind](raw)


def encode_params(params: Any) -> Any:
    if isinstance(params, dict):
        return {str(k): encode_param(v) for k, v in params.items()}
    if params is None:
        return None
    return [encode_param(v) for v in params]


def decode_params(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: decode_param(v) for k, v in params.items()}
    if params is None:
        return None
    return [decode_param(v) for v in params]
