"""Turn an old and a new version of some rows of a table into the changes a MERGE must apply."""

from __future__ import annotations

from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

UPSERT, DELETE = "upsert", "delete"


def _all_equal(left: DataFrame, right: DataFrame, columns: list[str], prefix: str):
    return reduce(lambda a, b: a & b, [left[c].eqNullSafe(right[f"{prefix}{c}"]) for c in columns])


def build_changes(old: DataFrame, new: DataFrame, match_on: list[str]) -> DataFrame:
    """The rows to delete and to upsert so that the rows of `old` become those of `new`.

    `old` and `new` have the same columns; `match_on` identifies a row in the target (its key, plus
    the partition columns so that a row that moves partition is a delete plus an insert). Returns
    `new`'s columns plus `_action` (upsert or delete): rows identical in both give nothing, so a
    MERGE of the result touches only files holding rows that really changed.
    """
    columns = new.columns
    # Prefixed copies keep the join unambiguous when `new` was derived from `old`.
    new_p = new.select(*[F.col(c).alias(f"_n_{c}") for c in columns])
    old_p = old.select(*[F.col(c).alias(f"_o_{c}") for c in columns])
    deletes_df = old.join(new_p, on=_all_equal(old, new_p, match_on, "_n_"), how="left_anti")
    upserts_df = new.join(old_p, on=_all_equal(new, old_p, columns, "_o_"), how="left_anti")
    return deletes_df.select(*columns, F.lit(DELETE).alias("_action")).unionByName(
        upserts_df.select(*columns, F.lit(UPSERT).alias("_action"))
    )
