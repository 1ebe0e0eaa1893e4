"""Text to typed values exactly or not at all: numbers, ISO 8601 timestamps and dates (raw checks, curated reads)."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

NUMERIC = (T.DecimalType, T.LongType, T.IntegerType, T.DoubleType, T.FloatType, T.ShortType, T.ByteType)

# An exponent of 1000 or more fits no column type, and Spark's cast to decimal does not return null for
# it: 1e-999999999 makes it compute 10^999999999 and fail the whole job.
_HUGE_EXPONENT = r"[eE][+-]?0*[1-9][0-9]{3,}\s*$"
_EXPONENT_NUMBER = r"^\s*[+-]?([0-9]*)(?:\.([0-9]*))?[eE]([+-]?[0-9]+)\s*$"

# The ISO 8601 forms read: a calendar date, and a date with a time to the second, at most 6 significant
# fractional digits (a timestamp holds microseconds; more digits are fine only when zeros) and Z or an
# offset +HH:MM (none: UTC, the session's zone). Spark's own cast accepts far more and guesses: "12:00"
# becomes today at noon, "2024" the first of January, 7 fractional digits are cut to 6.
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ISO_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6}0*)?(Z|[+-][0-9]{2}:[0-9]{2})?$"


def to_number(text: Column, data_type: T.DataType) -> Column:
    """A number's text as `data_type` (string -> decimal, never through float); null if it is not one."""
    return F.when(~text.rlike(_HUGE_EXPONENT), text.cast(data_type))


def _plain_number(scale: int) -> str:
    """A number in plain notation with at most `scale` significant decimals (trailing zeros do not count)."""
    decimals = rf"(\.[0-9]{{0,{scale}}}0*)?" if scale else r"(\.0*)?"
    return rf"^\s*[+-]?[0-9]*{decimals}\s*$"


def is_inexact_number(text: Column, data_type: T.DataType) -> Column:
    """True where the number `text` cannot be stored exactly as `data_type`.

    Out of range or not a number (the cast gives null), or with more significant decimals than the
    type's scale (a decimal's cast would round, an integer's truncate). Floating-point types are only
    checked for range: infinite or NaN is out of it. Null text is not a problem (the value is absent).
    """
    value = to_number(text, data_type)
    if isinstance(data_type, (T.DoubleType, T.FloatType)):
        return text.isNotNull() & (value.isNull() | F.isnan(value) | (F.abs(value) == float("inf")))
    scale = data_type.scale if isinstance(data_type, T.DecimalType) else 0
    # Plain notation is the rule; only a number with an exponent pays for the arithmetic on its parts.
    fraction = F.regexp_replace(F.regexp_extract(text, _EXPONENT_NUMBER, 2), "0+$", "")
    exponent = F.regexp_extract(text, _EXPONENT_NUMBER, 3).cast("int")
    exact_with_exponent = F.coalesce(F.length(fraction) - exponent <= scale, F.lit(False))
    return text.isNotNull() & (value.isNull() | (~text.rlike(_plain_number(scale)) & ~exact_with_exponent))


def to_iso_timestamp(text: Column) -> Column:
    """An ISO 8601 timestamp's text (ISO_TIMESTAMP) as a timestamp; null for any other text, "" included."""
    return F.when(text.rlike(ISO_TIMESTAMP), F.to_timestamp(text))


def to_iso_date(text: Column) -> Column:
    """An ISO 8601 date's text (YYYY-MM-DD) as a date; null for any other text, "" included."""
    return F.when(text.rlike(ISO_DATE), F.to_date(text))


def to_parsed(text: Column, kind: str) -> Column:
    """`text` read as `kind` ("timestamp" or "date", a catalog column's `parse_as`)."""
    return {"timestamp": to_iso_timestamp, "date": to_iso_date}[kind](text)


def is_unparseable(text: Column, kind: str) -> Column:
    """True where `text` holds something that is not a `kind`. Null and "" say "none": they are not a problem."""
    return F.coalesce((F.length(text) > 0) & to_parsed(text, kind).isNull(), F.lit(False))
