"""Decode DynamoDB JSON export lines (full and incremental) into typed columns, and resolve item histories."""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.values import NUMERIC, is_inexact_number, is_unparseable, to_number

SNAPSHOT, INSERT, UPDATE, DELETE = "SNAPSHOT", "INSERT", "UPDATE", "DELETE"

_NUMERIC = NUMERIC


def _source(field: T.StructField) -> str:
    return field.metadata.get("source", field.name)


def ddb_wire_type(data_type: T.DataType) -> T.DataType:
    """The DynamoDB JSON shape that carries a value of `data_type` ({"S": …}, {"N": …}, {"L": […]}, …)."""
    if isinstance(data_type, T.StringType):
        return T.StructType([T.StructField("S", T.StringType()), T.StructField("NULL", T.BooleanType())])
    if isinstance(data_type, _NUMERIC):
        return T.StructType([T.StructField("N", T.StringType()), T.StructField("NULL", T.BooleanType())])
    if isinstance(data_type, T.BooleanType):
        return T.StructType([T.StructField("BOOL", T.BooleanType()), T.StructField("NULL", T.BooleanType())])
    if isinstance(data_type, T.BinaryType):
        return T.StructType([T.StructField("B", T.StringType()), T.StructField("NULL", T.BooleanType())])
    if isinstance(data_type, T.StructType):
        return T.StructType([T.StructField("M", ddb_item_type(data_type)), T.StructField("NULL", T.BooleanType())])
    if isinstance(data_type, T.ArrayType):
        element = data_type.elementType
        fields = [T.StructField("L", T.ArrayType(ddb_wire_type(element))), T.StructField("NULL", T.BooleanType())]
        if isinstance(element, T.StringType):
            fields.append(T.StructField("SS", T.ArrayType(T.StringType())))
        elif isinstance(element, _NUMERIC):
            fields.append(T.StructField("NS", T.ArrayType(T.StringType())))
        elif isinstance(element, T.BinaryType):
            fields.append(T.StructField("BS", T.ArrayType(T.StringType())))
        return T.StructType(fields)
    raise TypeError(f"no DynamoDB encoding for {data_type.simpleString()}")


def ddb_item_type(schema: T.StructType) -> T.StructType:
    """An item (attribute name -> typed attribute value) for the columns of `schema` that have a source."""
    return T.StructType(
        [T.StructField(_source(f), ddb_wire_type(f.dataType)) for f in schema.fields if "source" in f.metadata]
    )


def ddb_record_type(schema: T.StructType) -> T.StructType:
    """One line of a DynamoDB export: {"Item"} (full) or {"Metadata","Keys","NewImage","OldImage"} (incremental)."""
    item = ddb_item_type(schema)
    return T.StructType(
        [
            T.StructField("Item", item),
            T.StructField("Keys", item),
            T.StructField("NewImage", item),
            T.StructField("OldImage", item),
            T.StructField(
                "Metadata",
                T.StructType([T.StructField("WriteTimestampMicros", ddb_wire_type(T.DecimalType(38, 0)))]),
            ),
        ]
    )


def decode_ddb_value(value: Column, data_type: T.DataType) -> Column:
    """The typed value of one DynamoDB attribute value; numbers go string -> decimal, never through float."""
    if isinstance(data_type, T.StringType):
        return value["S"]
    if isinstance(data_type, _NUMERIC):
        return to_number(value["N"], data_type)
    if isinstance(data_type, T.BooleanType):
        return value["BOOL"]
    if isinstance(data_type, T.BinaryType):
        return F.unbase64(value["B"])
    if isinstance(data_type, T.StructType):
        # F.struct is never null: without the guard an absent or NULL map would decode as a struct of nulls.
        return F.when(value["M"].isNotNull(), decode_ddb_item(value["M"], data_type))
    if isinstance(data_type, T.ArrayType):
        element = data_type.elementType
        from_list = F.transform(value["L"], lambda e: decode_ddb_value(e, element))
        sets = {T.StringType: "SS", T.BinaryType: "BS"}
        set_key = "NS" if isinstance(element, _NUMERIC) else sets.get(type(element))
        if set_key is None:
            return from_list
        from_set = F.transform(value[set_key], lambda e: decode_ddb_value(F.struct(e.alias(set_key[0])), element))
        return F.coalesce(from_list, from_set)
    raise TypeError(f"no DynamoDB decoding for {data_type.simpleString()}")


def decode_ddb_item(item: Column, schema: T.StructType) -> Column:
    """A struct with the fields of `schema`, each decoded from its source attribute of `item`."""
    return F.struct(
        *[
            decode_ddb_value(item[_source(f)], f.dataType).alias(f.name)
            if "source" in f.metadata
            else F.lit(None).cast(f.dataType).alias(f.name)
            for f in schema.fields
        ]
    )


def _is_null_marker(wire: Column) -> Column:
    return F.coalesce(wire["NULL"], F.lit(False))


def wire_problems(
    wire: Column, data_type: T.DataType, column: str, attribute: str, parse_as: str | None = None
) -> list[tuple[Column, str]]:
    """(condition, reason) for every value under the attribute value `wire` that `data_type` cannot hold exactly.

    Recurses into maps and lists, so a bad value nested in a list of maps is found like a top-level
    one. `column` and `attribute` name the place (`progress_details.reward_earned`,
    `progressDetails[].rewardEarned`) in the reason. A string that must parse as a timestamp or date
    (`parse_as`, a field's metadata from the catalog) and holds something else is a problem; "" is not
    (the source's "none yet").
    """
    where = f"column {column} (attribute {attribute})"
    present = wire.isNotNull() & ~_is_null_marker(wire)
    if isinstance(data_type, _NUMERIC):
        return [
            (present & wire["N"].isNull(), f"{where}: not a number"),
            (
                is_inexact_number(wire["N"], data_type),
                f"{where}: cannot be stored exactly as {data_type.simpleString()}",
            ),
        ]
    if isinstance(data_type, T.StringType):
        problems = [(present & wire["S"].isNull(), f"{where}: not a string")]
        if parse_as is not None:
            problems.append((is_unparseable(wire["S"], parse_as), f"{where}: not an ISO 8601 {parse_as}"))
        return problems
    if isinstance(data_type, T.BooleanType):
        return [(present & wire["BOOL"].isNull(), f"{where}: not a boolean")]
    if isinstance(data_type, T.BinaryType):
        return [(present & wire["B"].isNull(), f"{where}: not binary")]
    if isinstance(data_type, T.StructType):
        problems = [(present & wire["M"].isNull(), f"{where}: not a map")]
        for field in data_type.fields:
            if "source" in field.metadata:
                problems += wire_problems(
                    wire["M"][_source(field)],
                    field.dataType,
                    f"{column}.{field.name}",
                    f"{attribute}.{_source(field)}",
                    field.metadata.get("parse_as"),
                )
        return problems
    if isinstance(data_type, T.ArrayType):
        element = data_type.elementType
        set_key = {T.StringType: "SS", T.BinaryType: "BS"}.get(
            type(element), "NS" if isinstance(element, _NUMERIC) else None
        )
        listed = wire["L"].isNull() if set_key is None else wire["L"].isNull() & wire[set_key].isNull()
        problems = [(present & listed, f"{where}: not a list")]
        inner = wire_problems(F.lit(None), element, column, f"{attribute}[]", parse_as)
        for index, (_, reason) in enumerate(inner):
            in_list = F.exists(wire["L"], _element_problem(element, column, f"{attribute}[]", parse_as, index))
            problems.append((F.coalesce(in_list, F.lit(False)), reason))
        if set_key == "SS" and parse_as is not None:
            in_set = F.exists(wire["SS"], lambda t: is_unparseable(t, parse_as))
            reason = f"{where}: a string of the set is not an ISO 8601 {parse_as}"
            problems.append((F.coalesce(in_set, F.lit(False)), reason))
        if set_key == "NS":
            in_set = F.exists(wire["NS"], lambda t: is_inexact_number(t, element))
            problems.append(
                (F.coalesce(in_set, F.lit(False)), f"{where}: a number of the set cannot be stored exactly")
            )
        return problems
    raise TypeError(f"no DynamoDB decoding for {data_type.simpleString()}")


def _element_problem(element: T.DataType, column: str, attribute: str, parse_as: str | None, index: int):
    """The `index`-th problem of wire_problems for one list element (F.exists passes the element alone)."""
    return lambda e: wire_problems(e, element, column, attribute, parse_as)[index][0]


def _first_error(checks: list[tuple[Column, Column]]) -> Column:
    """The message of the first failed check, else null."""
    return reduce(lambda acc, check: acc.when(check[0], check[1]), checks[1:], F.when(*checks[0]))


def with_decoded_export_records(lines: DataFrame, schema: T.StructType, key_attributes: list[str]) -> DataFrame:
    """Decode export lines into the sourced columns of `schema`, with `_op`, `_write_ts` and `_error`.

    Needs `_text` (one line of a data file). Returns one row per line: a line that cannot be decoded
    keeps its text and gets the reason in `_error` (null for a good record). `_op` is SNAPSHOT for a
    full-export item; for an incremental one it is inferred as AWS documents: Keys+NewImage = INSERT,
    Keys+OldImage+NewImage = UPDATE, Keys+OldImage or Keys alone = DELETE. The image is the new one,
    or for a delete the old one (or only the keys).
    """
    sourced = [f for f in schema.fields if "source" in f.metadata]
    by_source = {_source(f): f for f in sourced}
    missing_keys = [k for k in key_attributes if k not in by_source]
    if missing_keys:
        raise ValueError(f"key attributes {missing_keys} have no column in the schema")

    # One parse: a line that is not a JSON object lands in `_corrupt_record` (PERMISSIVE mode). Each
    # stage below is its own projection over columns of the one before, so the parse, the image and
    # every decoded value are computed once per line and the checks read them as plain columns.
    record_type = ddb_record_type(schema).add("_corrupt_record", T.StringType())
    record = F.from_json("_text", record_type, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"})
    parsed = lines.select("*", record.alias("_record"))
    r = F.col("_record")
    image = (
        F.when(r["Item"].isNotNull(), r["Item"])
        .when(r["NewImage"].isNotNull(), r["NewImage"])
        .when(r["OldImage"].isNotNull(), r["OldImage"])
        .otherwise(r["Keys"])
    )
    op = (
        F.when(r["Item"].isNotNull(), F.lit(SNAPSHOT))
        .when(r["NewImage"].isNotNull() & r["OldImage"].isNotNull(), F.lit(UPDATE))
        .when(r["NewImage"].isNotNull(), F.lit(INSERT))
        .when(r["Keys"].isNotNull(), F.lit(DELETE))
    )
    imaged = parsed.select(
        "*",
        image.alias("_image"),
        op.alias("_op"),
        (r.isNull() | r["_corrupt_record"].isNotNull()).alias("_corrupt"),
        F.timestamp_micros(r["Metadata"]["WriteTimestampMicros"]["N"].cast("long")).alias("_write_ts"),
    )
    i = F.col("_image")
    values = {
        f.name: F.coalesce(
            decode_ddb_value(r["Keys"][_source(f)], f.dataType), decode_ddb_value(i[_source(f)], f.dataType)
        )
        if _source(f) in key_attributes
        else decode_ddb_value(i[_source(f)], f.dataType)
        for f in sourced
    }
    valued = imaged.select("*", *[values[f.name].alias(f.name) for f in sourced])

    corrupt = F.col("_corrupt")
    # Parsed again only where a check fails (conditions short-circuit): each attribute's text as sent.
    raw = F.from_json(
        "_text",
        "struct<Item: map<string,string>, Keys: map<string,string>, "
        "NewImage: map<string,string>, OldImage: map<string,string>>",
    )
    raw_image = F.coalesce(raw["Item"], raw["NewImage"], raw["OldImage"], raw["Keys"])
    checks: list[tuple[Column, Column]] = [
        (corrupt & F.from_json("_text", "map<string,string>").isNull(), F.lit("not valid JSON")),
        (F.col("_op").isNull(), F.lit("not a DynamoDB export record: no Item, Keys, NewImage or OldImage")),
    ]
    checks += [(F.col(by_source[k].name).isNull(), F.lit(f"missing key attribute {k}")) for k in key_attributes]
    for attribute, spark_field in by_source.items():
        # Present, not {"NULL": true}, yet no value: a wrong type or a value out of range. A type the
        # parser itself rejects ({"BOOL": "yes"}) marks the whole line corrupt: found from the text.
        wire = i[attribute]
        text = raw_image[attribute]
        value = F.col(spark_field.name)
        unreadable = (wire.isNotNull() & value.isNull() & ~F.coalesce(wire["NULL"], F.lit(False))) | (
            corrupt & text.isNotNull() & value.isNull() & ~text.rlike(r'^\{\s*"NULL"\s*:\s*true\s*\}$')
        )
        message = F.concat(
            F.lit(f"attribute {attribute}: cannot read "), text, F.lit(f" as {spark_field.dataType.simpleString()}")
        )
        checks.append((unreadable, message))
    # Values a cast would round or turn into null, and text a curated parse would, at any depth: the line
    # goes to quarantine instead.
    for attribute, spark_field in by_source.items():
        checks += [
            (condition, F.lit(reason))
            for condition, reason in wire_problems(
                i[attribute], spark_field.dataType, spark_field.name, attribute, spark_field.metadata.get("parse_as")
            )
        ]
    checks.append((corrupt, F.lit("not in the DynamoDB JSON shape the table's schema expects")))
    decoded = valued.select("*", _first_error(checks).alias("_error"))
    return decoded.select(*lines.columns, *[f.name for f in sourced], "_op", "_write_ts", "_error")


def filter_good_records(decoded: DataFrame, columns: list[str]) -> DataFrame:
    """The rows of decoded export lines that have no `_error`, as `columns`.

    Needs `_error` and `columns` (from with_decoded_export_records). A plain `.filter(_error IS NULL)`
    would be pushed down below the decode's projections with every alias inlined, so the JSON parse
    and each decoded value would be computed again inside the filter (a full export decoded 3 times
    slower). Keeping a row through a generator (an array of one struct, or of none) leaves no Filter
    to push: the decode runs once per line.
    """
    kept = F.when(F.col("_error").isNull(), F.array(F.struct(*columns)))
    return decoded.select(F.explode(kept).alias("_kept")).select("_kept.*")


def filter_latest_image(events: DataFrame, keys: list[str], order: list[Column]) -> DataFrame:
    """One row per key: the last event by `order` (latest first). Deleted keys keep their DELETE row.

    Needs the key columns and whatever `order` reads. Callers drop `_op == DELETE` rows to get the
    current items.
    """
    window = Window.partitionBy(*keys).orderBy(*order)
    return events.withColumn("_rank", F.row_number().over(window)).filter(F.col("_rank") == 1).drop("_rank")
