"""A Delta table's change data feed since a bookmark -> a DynamoDB table: only what changed, idempotent.

For every item key the changes touched, the last change decides: an insert or update post-image is
written (put), a delete or an update pre-image whose key no later image carries is deleted (an item
whose key attributes changed moves). Items go in key order, 25 a request (BatchWriter); the bookmark
records the last key of every batch written with the version being loaded, so a rerun after a crash
rewrites at most the batch it was writing, and a rerun with nothing new writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakekit.catalog.model import TableDef
from lakekit.catalog.serving import ServingTable
from lakekit.core.failpoints import failpoint
from lakekit.core.job import JobError, JobRun
from lakekit.sinks.delta import read_changes
from lakekit.sinks.delta_log import latest_version
from lakekit.sinks.dynamodb import BatchWriter, Deletion, DynamoDBError, chunks, ensure_table, to_item

PUTS = ("insert", "update_postimage")


@dataclass(frozen=True)
class Feed:
    """One Delta table loaded into one DynamoDB table.

    `item` gives each attribute of an item as a Column over the Delta table's columns (key attributes
    included; a null value leaves the attribute out). `name` overrides the declared table name;
    `position_key` prefixes this feed's fields in the job's bookmark (`<key>_version`, `<key>_pending`;
    None: `version`, `pending`), so several feeds of one job keep their positions side by side.
    """

    source: TableDef
    target: ServingTable
    item: Callable[[], dict[str, Column]]
    name: str | None = None
    position_key: str | None = None

    @property
    def table_name(self) -> str:
        return self.name or self.target.name


@dataclass
class FeedResult:
    table: str
    puts: int = 0
    deletes: int = 0
    requests: int = 0
    version: int | None = None  # the source version loaded up to; None: nothing was loaded
    created: bool = False
    notes: list[str] = field(default_factory=list)


def dynamodb_client():
    from botocore.exceptions import NoRegionError

    from lakekit.sinks.dynamodb import client

    try:
        return client()
    except NoRegionError:
        raise JobError("no AWS region for DynamoDB: set AWS_REGION or AWS_DEFAULT_REGION") from None


def final_actions(spark, feed: Feed, path: str, after_version: int, up_to_version: int) -> DataFrame:
    """One row per item key touched in versions (after_version, up_to_version]: the item's attributes as its
    last change left them, and `_delete` (true: the key holds no item any more)."""
    keys = feed.target.key_names
    attributes = feed.item()
    changes_df = read_changes(spark, path, after_version, up_to_version)
    items_df = changes_df.select(
        *[column.alias(name) for name, column in attributes.items()],
        F.col("_change_type").isin(*PUTS).alias("_put"),
        "_commit_version",
    )
    # Within one version an image that is written outranks one that is removed (a row moved partition,
    # or an update whose key stayed): the key keeps an item.
    last = Window.partitionBy(*keys).orderBy(F.col("_commit_version").desc(), F.col("_put").desc())
    ranked_df = items_df.withColumn("_rank", F.row_number().over(last)).filter(F.col("_rank") == 1)
    return ranked_df.select(*attributes, (~F.col("_put")).alias("_delete"))


def after_key(keys: list[str], values: list[Any]) -> Column:
    """Rows whose key sorts after `values` (lexicographic over the key attributes)."""
    condition = F.lit(False)
    for i in reversed(range(len(keys))):
        here = F.col(keys[i]) > F.lit(values[i])
        for j in range(i):
            here = (F.col(keys[j]) == F.lit(values[j])) & here
        condition = here | condition
    return condition


def _field(feed: Feed, name: str) -> str:
    return f"{feed.position_key}_{name}" if feed.position_key else name


def _position(bookmark: dict[str, Any], feed: Feed) -> dict[str, Any]:
    pending = bookmark.get(_field(feed, "pending"))
    if pending and "after" not in pending and "after_id" in pending:  # a bookmark written before keys were lists
        pending = {"to_version": pending["to_version"], "after": [pending["after_id"]]}
    return {"version": bookmark.get(_field(feed, "version"), -1), "pending": pending}


def _save(run: JobRun, bookmark: dict[str, Any], feed: Feed, position: dict[str, Any]) -> None:
    bookmark.pop(_field(feed, "pending"), None)
    bookmark.update({_field(feed, k): v for k, v in position.items()})
    run.advance(dict(bookmark))


def load_feed(run: JobRun, feed: Feed, bookmark: dict[str, Any], dynamodb=None) -> FeedResult:
    """Write what changed in `feed.source` since the bookmark into the DynamoDB table.

    `bookmark` is the job's whole bookmark document (run.position()); it is updated and saved in place,
    so several feeds of one job keep their positions side by side. The DynamoDB client (`dynamodb`, else
    one from boto3's standard configuration) is made only when there is something to write.
    """
    result = FeedResult(feed.table_name)
    path = feed.source.location_under(run.settings.lake_root)
    latest = latest_version(path)
    if latest is None:
        run.say(f"{feed.source.qualified_name} does not exist yet: nothing to load")
        return result
    position = _position(bookmark, feed)
    done, pending = position["version"], position["pending"]
    if pending is None and latest <= done:
        run.say(f"nothing new in {feed.source.qualified_name} since version {done}")
        return result
    keys = feed.target.key_names
    dynamodb = dynamodb or dynamodb_client()
    try:
        result.created = ensure_table(dynamodb, feed.target, create=run.settings.env == "local", name=feed.table_name)
        if result.created:
            run.say(f"DynamoDB table {feed.table_name} created (on-demand)")
        writer = BatchWriter(dynamodb, feed.table_name)
        while pending is not None or done < latest:
            target = pending["to_version"] if pending else latest
            actions_df = final_actions(run.spark, feed, path, done, target)
            if pending:
                actions_df = actions_df.filter(after_key(keys, pending["after"]))
            for batch in chunks(actions_df.orderBy(*keys).toLocalIterator()):
                requests = []
                for row in batch:
                    values = row.asDict()
                    if values.pop("_delete"):
                        requests.append(Deletion(to_item({k: values[k] for k in keys})))
                        result.deletes += 1
                    else:
                        requests.append(to_item(values))
                        result.puts += 1
                failpoint("dynamodb.before_batch", feed.table_name)
                writer.write(requests)
                failpoint("dynamodb.after_batch", feed.table_name)  # written, the bookmark not yet advanced
                after = [batch[-1][k] for k in keys]
                _save(run, bookmark, feed, {"version": done, "pending": {"to_version": target, "after": after}})
            done, pending = target, None
            _save(run, bookmark, feed, {"version": done})
        result.requests = writer.requests
    except DynamoDBError as error:
        raise JobError(str(error)) from None
    result.version = done
    return result
