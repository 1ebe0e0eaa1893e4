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


def first_problem(problems: list[tuple[Column, str]]) -> Column:
    """The reason of the first problem whose condition holds, else null."""
    if not problems:
        return F.lit(None).cast("string")
    first = F.when(problems[0][0], F.lit(problems[0][1]))
    for condition, reason in problems[1:]:
        first = first.when(condition, F.lit(reason))
    return first


def decode_json_text(text: Column, data_type: T.DataType, column: str = "") -> tuple[Column, list[tuple[Column, str]]]:
    """(the JSON value `text` as `data_type`, [(condition, reason)] for each value the type cannot hold exactly).

    `text` is a JSON value's text as Spark reads it into a string (an object or list as its JSON, a
    string unquoted, a number as its digits). Objects are read field by field, at any depth: a value
    that is not an object where a struct is expected, a number that is inexact or out of range, a
    timestamp or date that is not ISO 8601 (ISO_TIMESTAMP, ISO_DATE), a boolean that is not true or
    false is a problem named after its column path (`dob.date`). A string column takes any JSON value
    as its text (an int-or-string postcode). Absent and null values are no problem.
    """
    where = f"column {column}" if column else "the record"
    present = text.isNotNull()
    if isinstance(data_type, T.StructType):
        fields = F.from_json(text, "map<string,string>")
        problems = [(present & fields.isNull(), f"{where}: not an object")]
        values = []
        for field in data_type.fields:
            value, inner = decode_json_text(fields[field.name], field.dataType, f"{column}.{field.name}".lstrip("."))
            values.append(value.alias(field.name))
            problems += inner
        return F.when(fields.isNotNull(), F.struct(*values)), problems
    if isinstance(data_type, T.ArrayType):
        element = data_type.elementType
        elements = F.from_json(text, "array<string>")
        problems = [(present & elements.isNull(), f"{where}: not a list")]
        inner = decode_json_text(F.lit(None).cast("string"), element, f"{column}[]")[1]
        for index, (_, reason) in enumerate(inner):
            found = F.exists(elements, _element_problem(element, f"{column}[]", index))
            problems.append((F.coalesce(found, F.lit(False)), reason))
        return F.transform(elements, lambda e: decode_json_text(e, element, f"{column}[]")[0]), problems
    if isinstance(data_type, NUMERIC):
        reason = f"{where}: cannot be stored exactly as {data_type.simpleString()}"
        return to_number(text, data_type), [(is_inexact_number(text, data_type), reason)]
    if isinstance(data_type, (T.TimestampType, T.DateType)):
        kind = "timestamp" if isinstance(data_type, T.TimestampType) else "date"
        return to_parsed(text, kind), [(present & to_parsed(text, kind).isNull(), f"{where}: not an ISO 8601 {kind}")]
    if isinstance(data_type, T.BooleanType):
        value = F.when(text == "true", F.lit(True)).when(text == "false", F.lit(False))
        return value, [(present & value.isNull(), f"{where}: not a boolean")]
    if isinstance(data_type, T.StringType):
        return text, []
    raise TypeError(f"no JSON decoding for {data_type.simpleString()}")


def _element_problem(element: T.DataType, column: str, index: int):
    """The `index`-th problem of decode_json_text for one list element (F.exists passes the element alone)."""
    return lambda e: decode_json_text(e, element, column)[1][index][0]
