"""Turn an old and a new version of some rows of a table into the changes a MERGE must apply."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

UPSERT, DELETE = "upsert", "delete"


def build_changes(old: DataFrame, new: DataFrame, match_on: list[str]) -> DataFrame:
    """The rows to delete and to upsert so that the rows of `old` become those of `new`.

    `old` and `new` have the same columns; `match_on` identifies a row in the target (its key, plus
    the partition columns so that a row that moves partition is a delete plus an insert). Returns
    `new`'s columns plus `_action` (upsert or delete): rows identical in both give nothing, so a
    MERGE of the result touches only files holding rows that really changed.

    Both sides go through one shuffle by `match_on`: an old row whose key has no new row is a
    delete; a new row with no identical old row is an upsert (nulls compare equal in both tests).
    """
    columns = new.columns
    tagged = old.select(*columns, F.lit(0).alias("_side")).unionByName(new.select(*columns, F.lit(1).alias("_side")))
    # Rows grouped by every column are also grouped by the key: the second window needs no new shuffle.
    flagged = tagged.select(
        "*",
        F.max("_side").over(Window.partitionBy(*match_on)).alias("_key_in_new"),
        F.min("_side").over(Window.partitionBy(*columns)).alias("_only_new"),
    )
    action = F.when((F.col("_side") == 0) & (F.col("_key_in_new") == 0), F.lit(DELETE)).when(
        (F.col("_side") == 1) & (F.col("_only_new") == 1), F.lit(UPSERT)
    )
    changes = flagged.select(*columns, action.alias("_action")).filter(F.col("_action").isNotNull())
    # Never null after the filter; coalesce tells Spark so.
    return changes.select(*columns, F.coalesce("_action", F.lit(UPSERT)).alias("_action"))
