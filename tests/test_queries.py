"""queries/: every file runs as Athena SQL transpiled to Spark on the demo lake, with its whole result checked;
`lake query` and `lake tables` on the demo lake; the Athena path against moto's server and botocore's Stubber."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.request import Request, urlopen

import boto3
import pytest
from botocore.stub import Stubber

from lakekit import cli
from lakekit.catalog.athena import QueryError, run_athena, run_local, to_spark_sql
from lakekit.catalog.model import all_tables
from tests.demo_lake import demo_lake

QUERIES = Path(__file__).resolve().parent.parent / "queries"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# Derived by hand from scripts/make_samples.py, the state after every complete export: alice (spring:
# signup and share done), bob (spring: signup done), dave (winter: streak3 and the unknown TASK#bonus),
# heidi (winter: streak3), kim (winter: streak3 FAILED 11-18 12:00, streak7 IN_PROGRESS 11-19 12:00),
# lena (spring: signup PENDING 11-19 15:00); erin deleted, carol with no progress. Tasks: spring signup
# (deadline moved to 11-27 10:00 UTC), share (11-26 00:00), review (11-30 23:30); winter streak3 (12-05),
# streak7 (12-09 18:30).
EXPECTED: dict[str, tuple[list[tuple[str, str]], list[tuple]]] = {
    "task_completion_by_campaign.sql": (
        [
            ("campaign_id", "string"),
            ("task_id", "string"),
            ("users", "bigint"),
            ("completed", "bigint"),
            ("completion_rate", "double"),
        ],
        [
            ("CAMP#spring", "TASK#share", 1, 1, 1.0),
            ("CAMP#spring", "TASK#signup", 3, 2, 2 / 3),  # alice, bob done; lena pending
            ("CAMP#winter", "TASK#bonus", 1, 1, 1.0),
            ("CAMP#winter", "TASK#streak3", 3, 2, 2 / 3),  # dave, heidi done; kim failed
            ("CAMP#winter", "TASK#streak7", 1, 0, 0.0),  # kim in progress
        ],
    ),
    "validations_after_deadline.sql": (
        [
            ("campaign_id", "string"),
            ("task_id", "string"),
            ("validations", "bigint"),
            ("after_deadline", "bigint"),
            ("min_hours_before_deadline", "bigint"),
        ],
        [
            # alice 11-19 09:30 -> 11-26 00:00 is 158.5 h, whole hours counted.
            ("CAMP#spring", "TASK#share", 1, 0, 158),
            # bob 11-20 06:40 -> 11-27 10:00 (171 h 20 min) is nearer than lena 11-19 15:00 (187 h) and
            # alice 11-19 07:00 (195 h).
            ("CAMP#spring", "TASK#signup", 3, 0, 171),
            # heidi 11-20 06:50 -> 12-05 00:00 (353 h 10 min); dave 11-19 20:00 (364 h); kim 11-18 12:00 (396 h).
            # TASK#bonus has no deadline.
            ("CAMP#winter", "TASK#streak3", 3, 0, 353),
            # kim 11-19 12:00 -> 12-09 18:30: 20 days 6 h 30 min, 486 whole hours.
            ("CAMP#winter", "TASK#streak7", 1, 0, 486),
        ],
    ),
    "rewards_earned_per_day.sql": (
        [
            ("day", "date"),
            ("campaign_id", "string"),
            ("completed_tasks", "bigint"),
            ("users", "bigint"),
            ("rewards_earned", "decimal(38,6)"),
        ],
        [
            (date(2026, 11, 19), "CAMP#spring", 2, 1, Decimal("15.5")),  # alice: signup 10 + share 5.5
            (date(2026, 11, 19), "CAMP#winter", 2, 1, Decimal("18")),  # dave: streak3 15 + bonus 3
            (date(2026, 11, 20), "CAMP#spring", 1, 1, Decimal("10")),  # bob: signup
            (date(2026, 11, 20), "CAMP#winter", 1, 1, Decimal("15")),  # heidi: streak3
        ],
    ),
    "users_stuck_in_progress.sql": (
        [
            ("user_id", "string"),
            ("campaign_id", "string"),
            ("open_tasks", "bigint"),
            ("open_task_ids", "string"),
            ("next_deadline", "timestamp"),
            ("last_validated_at", "timestamp"),
        ],
        [
            ("USER#bob", "CAMP#spring", 2, "TASK#review, TASK#share", ts("2026-11-26 00:00"), ts("2026-11-20 06:40")),
            # lena's pending signup is open too; her share deadline ties with bob's, user_id breaks the tie.
            (
                "USER#lena",
                "CAMP#spring",
                3,
                "TASK#review, TASK#share, TASK#signup",
                ts("2026-11-26 00:00"),
                ts("2026-11-19 15:00"),
            ),
            ("USER#alice", "CAMP#spring", 1, "TASK#review", ts("2026-11-30 23:30"), ts("2026-11-19 09:30")),
            # kim's failed streak3 is not completed: still open, and the nearer deadline.
            (
                "USER#kim",
                "CAMP#winter",
                2,
                "TASK#streak3, TASK#streak7",
                ts("2026-12-05 00:00"),
                ts("2026-11-19 12:00"),
            ),
            # dave's last validation is TASK#bonus, not a task of the campaign but a validation all the same.
            ("USER#dave", "CAMP#winter", 1, "TASK#streak7", ts("2026-12-09 18:30"), ts("2026-11-19 21:00")),
            ("USER#heidi", "CAMP#winter", 1, "TASK#streak7", ts("2026-12-09 18:30"), ts("2026-11-20 06:50")),
        ],
    ),
    "tasks_without_deadline.sql": (
        [
            ("campaign_id", "string"),
            ("task_id", "string"),
            ("reason", "string"),
            ("users", "bigint"),
            ("first_validated_at", "timestamp"),
            ("rewards_earned", "decimal(38,6)"),
        ],
        # erin's CAMP#ghost row (unknown campaign) was deleted by the incremental export.
        [("CAMP#winter", "TASK#bonus", "task not in campaign", 1, ts("2026-11-19 21:00"), Decimal("3"))],
    ),
    "campaign_summary.sql": (
        [
            ("campaign_id", "string"),
            ("tasks", "bigint"),
            ("rewards_on_offer", "decimal(38,6)"),
            ("last_deadline", "timestamp"),
            ("users", "bigint"),
            ("completed_tasks", "bigint"),
            ("rewards_earned", "decimal(38,6)"),
        ],
        [
            # 10 + 5.5 + 20 on offer; alice 15.5 + bob 10 (+ lena 0) earned. CAMP#draft has no tasks and no users.
            ("CAMP#spring", 3, Decimal("35.5"), ts("2026-11-30 23:30"), 3, 3, Decimal("25.5")),
            # dave 18 + heidi 15 (+ kim 0) earned.
            ("CAMP#winter", 2, Decimal("55.25"), ts("2026-12-09 18:30"), 3, 3, Decimal("33")),
        ],
    ),
}


@pytest.fixture(scope="module")
def demo(spark, tmp_path_factory) -> str:
    return demo_lake(spark, tmp_path_factory)


def test_every_query_file_has_an_expected_result():
    assert sorted(p.name for p in QUERIES.glob("*.sql")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_query_runs_locally_with_its_expected_result(spark, demo, name):
    columns, rows = EXPECTED[name]
    result_df = run_local(spark, (QUERIES / name).read_text())
    assert result_df.dtypes == columns
    # In the file's ORDER BY order; Decimal("15.5") == Decimal("15.500000"), so scales need not be spelled out.
    assert [tuple(row) for row in result_df.collect()] == rows


def test_lake_query_prints_a_readable_table_csv_and_json(demo, capsys):
    file = str(QUERIES / "tasks_without_deadline.sql")
    assert cli.main(["query", file, "--lake-root", demo]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "campaign_id | task_id    | reason               | users | first_validated_at      | rewards_earned",
        "------------+------------+----------------------+-------+-------------------------+---------------",
        "CAMP#winter | TASK#bonus | task not in campaign | 1     | 2026-11-19 21:00:00.000 | 3.000000",
        "(1 row)",
    ]
    assert cli.main(["query", "--lake-root", demo, "--format", "csv", str(QUERIES / "rewards_earned_per_day.sql")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "day,campaign_id,completed_tasks,users,rewards_earned",
        "2026-11-19,CAMP#spring,2,1,15.500000",
        "2026-11-19,CAMP#winter,2,1,18.000000",
        "2026-11-20,CAMP#spring,1,1,10.000000",
        "2026-11-20,CAMP#winter,1,1,15.000000",
    ]
    # Athena SQL through -e, a limit, and the Spark SQL it became on stderr.
    sql = (
        "SELECT user_id, date_diff('day', validated_at, task_deadline) AS days_left "
        "FROM curated.campaign_task_progress WHERE task_deadline IS NOT NULL ORDER BY days_left DESC, user_id"
    )
    assert cli.main(["query", "--lake-root", demo, "--format", "json", "--limit", "2", "--show-sql", "-e", sql]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line) for line in out.splitlines()] == [
        {"user_id": "USER#kim", "days_left": 20},  # streak7: 11-19 12:00 -> 12-09 18:30
        {"user_id": "USER#kim", "days_left": 16},  # streak3: 11-18 12:00 -> 12-05 00:00
    ]
    assert "DATEDIFF(DAY, validated_at, task_deadline)" in err


def test_lake_query_reports_bad_sql_clearly(demo, capsys):
    assert cli.main(["query", "--lake-root", demo, "-e", "SELECT nope FROM curated.campaign_tasks"]) == 1
    assert "lake: Spark cannot run the query" in capsys.readouterr().err
    assert cli.main(["query", "--lake-root", demo, "-e", "SELECT 1; SELECT 2"]) == 1
    assert "lake: expected one SQL statement, found 2" in capsys.readouterr().err


def test_lake_tables_lists_every_table_with_its_counts(demo, capsys):
    started = datetime.now(UTC)
    assert cli.main(["table", "list", "--lake-root", demo, "--format", "json"]) == 0
    listed = {row["table"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    updates = {name: listed[name].pop("last_update_utc") for name in listed}
    written = {
        "raw.user_campaign": ("parquet", "p_date (1)", 10),  # 7 full-export items (2 bad lines apart) + 3 changes
        "raw.campaign_info": ("parquet", "p_date (1)", 4),  # 3 campaigns + 1 change
        "curated.campaign_tasks": ("delta", "-", 5),
        "curated.campaign_task_progress": ("delta", "created_date (4)", 9),  # 11-17, 11-18, 11-19, 11-20
    }
    expected = {}
    for table in all_tables():
        fmt, partitions, rows = written.get(table.qualified_name, (table.format, None, None))
        if partitions is None:  # a table of another workflow: in catalog/, not written in this lake
            partitions = ", ".join(table.partition_keys) or "-"
        expected[table.qualified_name] = {
            "table": table.qualified_name,
            "layer": table.layer,
            "format": fmt,
            "partitions": partitions,
            "rows": rows,
            "defined_in": "catalog/",
        }
    assert listed == expected
    for name, update in updates.items():
        if name in written:
            assert started - timedelta(hours=2) < datetime.fromisoformat(update).replace(tzinfo=UTC) <= started
        else:
            assert update is None


# --- Athena through boto3 ------------------------------------------------------------------------------


@pytest.fixture
def moto_athena(monkeypatch):
    """A moto server on a free local port; boto3 clients made in the test talk to it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield endpoint
    server.stop()


def athena_column(name: str, kind: str) -> dict:
    return {"Name": name, "Label": name, "Type": kind, "Nullable": "UNKNOWN", "CaseSensitive": False}


def athena_row(*values: str | None) -> dict:
    return {"Data": [{"VarCharValue": v} if v is not None else {} for v in values]}


def test_lake_query_env_aws_runs_the_file_on_athena(moto_athena, capsys, monkeypatch):
    monkeypatch.setenv("LAKE_ENVIRONMENT", "dev")
    columns = [athena_column("campaign_id", "varchar"), athena_column("users", "bigint")]
    columns += [athena_column("completion_rate", "decimal"), athena_column("last", "timestamp")]
    results = {
        "results": [
            {
                "rows": [
                    athena_row("campaign_id", "users", "completion_rate", "last"),
                    athena_row("CAMP#spring", "2", "0.667", "2026-11-20 06:40:00.000"),
                    athena_row("CAMP#winter", "3", "1.000", None),
                ],
                "column_info": columns,
            }
        ]
    }
    request = Request(
        f"{moto_athena}/moto-api/static/athena/query-results",
        data=json.dumps(results).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert urlopen(request).status == 201

    file = QUERIES / "task_completion_by_campaign.sql"
    argv = ["query", str(file), "--env", "aws", "--lake-root", "s3://lake-bucket/lake", "--format", "json"]
    # Before the stack is deployed the environment has no workgroup: Athena refuses, lake query says which.
    assert cli.main(argv) == 1
    assert "Athena refused the query: WorkGroup does not exist (workgroup 'lake-dev'" in capsys.readouterr().err
    # The workgroup as the stack deploys it (deploy/stack.py `_athena`).
    boto3.client("athena").create_work_group(
        Name="lake-dev",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://lake-bucket/lake/_athena_results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    # Decimals are JSON numbers, with Athena's digits (not through a float).
    assert '"completion_rate": 0.667' in out and '"completion_rate": 1.000' in out
    assert [json.loads(line) for line in out.splitlines()] == [
        {"campaign_id": "CAMP#spring", "users": 2, "completion_rate": 0.667, "last": "2026-11-20 06:40:00.000"},
        {"campaign_id": "CAMP#winter", "users": 3, "completion_rate": 1.0, "last": None},
    ]
    client = boto3.client("athena")
    [execution_id] = client.list_query_executions()["QueryExecutionIds"]
    execution = client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    # Athena gets the file as written (Trino SQL) but for the environment's databases (conf names.templates:
    # "{environment}_{layer}"), in its curated database and workgroup, results under the lake root.
    text = file.read_text()
    assert "FROM curated." in text
    assert execution["Query"] == text.replace("FROM curated.", "FROM dev_curated.")
    assert execution["QueryExecutionContext"]["Database"] == "dev_curated"
    assert execution["WorkGroup"] == "lake-dev"
    assert (
        execution["ResultConfiguration"]["OutputLocation"]
        == f"s3://lake-bucket/lake/_athena_results/{execution_id}.csv"
    )


def stubbed_athena():
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def status(state: str, **extra) -> dict:
    return {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": state, **extra}}}


def test_run_athena_waits_and_pages_through_results():
    client, stub = stubbed_athena()
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": "SELECT 1",
            "QueryExecutionContext": {"Database": "curated"},
            "WorkGroup": "analysts",
            "ResultConfiguration": {"OutputLocation": "s3://out/"},
        },
    )
    stub.add_response("get_query_execution", status("QUEUED"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", status("RUNNING"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", status("SUCCEEDED"), {"QueryExecutionId": "q-1"})
    metadata = {"ColumnInfo": [athena_column("n", "integer"), athena_column("ok", "boolean")]}
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {"Rows": [athena_row("n", "ok"), athena_row("1", "true")], "ResultSetMetadata": metadata},
            "NextToken": "page-2",
        },
        {"QueryExecutionId": "q-1", "MaxResults": 1000},
    )
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": [athena_row("2", "false"), athena_row(None, None)], "ResultSetMetadata": metadata}},
        {"QueryExecutionId": "q-1", "MaxResults": 1000, "NextToken": "page-2"},
    )
    slept = []
    with stub:
        result = run_athena(
            "SELECT 1",
            database="curated",
            workgroup="analysts",
            output_location="s3://out/",
            client=client,
            poll_seconds=0.5,
            sleep=slept.append,
        )
    stub.assert_no_pending_responses()
    assert (result.query_execution_id, result.columns, result.types, result.truncated) == (
        "q-1",
        ["n", "ok"],
        ["integer", "boolean"],
        False,
    )
    assert result.rows == [(1, True), (2, False), (None, None)]
    assert slept == [0.5, 0.5]


def test_run_athena_failed_query_is_a_clear_error_through_the_cli(monkeypatch, capsys):
    client, stub = stubbed_athena()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response(
        "get_query_execution",
        status(
            "FAILED",
            StateChangeReason="line 1:8: Column 'nope' cannot be resolved",
            AthenaError={
                "ErrorCategory": 2,
                "ErrorType": 1006,
                "ErrorMessage": "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
            },
        ),
    )
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    monkeypatch.setenv("LAKE_ENVIRONMENT", "dev")
    with stub:
        code = cli.main(["query", "--env", "aws", "--output-location", "s3://out/", "-e", "SELECT nope"])
    assert code == 1
    assert capsys.readouterr().err == (
        "lake: Athena query q-1 FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved\n"
    )


def test_run_athena_stops_a_query_that_outlives_its_timeout():
    client, stub = stubbed_athena()
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", status("RUNNING"))
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
    with stub, pytest.raises(QueryError, match="q-1 still RUNNING after .*: stopped"):
        run_athena("SELECT 1", database="d", workgroup="w", output_location=None, client=client, timeout_seconds=-1)
    stub.assert_no_pending_responses()


def test_athena_functions_become_spark_functions():
    assert to_spark_sql("SELECT date_diff('hour', a, b), count_if(u > 1), CAST(x AS VARCHAR) FROM t ORDER BY 1") == (
        "SELECT DATEDIFF(HOUR, a, b), COUNT_IF(u > 1), CAST(x AS STRING) FROM t ORDER BY 1 NULLS LAST"
    )
    with pytest.raises(QueryError, match="cannot read the SQL"):
        to_spark_sql("SELECT FROM WHERE (")


def test_lake_query_answers_as_athena_in_the_database_asked(demo, capsys):
    # Unqualified names resolve in --database (default curated), as on Athena.
    sql = "SELECT campaign_id, count(*) AS tasks FROM campaign_tasks GROUP BY campaign_id ORDER BY 1"
    assert cli.main(["query", "--lake-root", demo, "--database", "curated", "--format", "csv", "-e", sql]) == 0
    assert capsys.readouterr().out.splitlines() == ["campaign_id,tasks", "CAMP#spring,3", "CAMP#winter,2"]
    assert cli.main(["query", "--lake-root", demo, "--database", "nope", "-e", sql]) == 1
    assert capsys.readouterr().err.startswith("lake: database 'nope' does not exist locally; databases: ")
    # cardinality of a NULL array is NULL on Athena (Spark's legacy size says -1).
    sql = "SELECT cardinality(CAST(NULL AS ARRAY(VARCHAR))) AS n, cardinality(ARRAY['a']) AS m, true AS t"
    assert cli.main(["query", "--lake-root", demo, "--format", "csv", "-e", sql]) == 0
    assert capsys.readouterr().out.splitlines() == ["n,m,t", ",1,true"]


def test_lake_query_env_aws_without_an_environment_says_how_to_name_it(monkeypatch, capsys):
    monkeypatch.delenv("LAKE_ENVIRONMENT", raising=False)
    monkeypatch.delenv("LAKE_NAMES", raising=False)
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: pytest.fail("Athena asked without an environment"))
    code = cli.main(["query", "--env", "aws", "--output-location", "s3://out/", "-e", "SELECT 1 FROM curated.x"])
    assert code == 1
    assert capsys.readouterr().err == (
        "lake: names.templates.database ('{environment}_{layer}') needs the environment: set LAKE_ENVIRONMENT "
        "(e.g. dev) or names.environment in the conf (a deployed job gets its names as --names)\n"
    )


def test_lake_query_env_aws_sends_the_file_with_the_environments_databases_and_workgroup(monkeypatch, capsys):
    """What Athena is asked, checked against botocore's model of the API (its Stubber)."""
    file = QUERIES / "orders" / "sales_per_country.sql"
    text = file.read_text()
    assert "FROM curated." in text
    client, stub = stubbed_athena()
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            # conf/aws.yaml: database "{environment}_{layer}", workgroup "lake-{environment}"
            "QueryString": text.replace("curated.", "prod_curated."),
            "QueryExecutionContext": {"Database": "prod_curated"},
            "WorkGroup": "lake-prod",
            "ResultConfiguration": {"OutputLocation": "s3://lake-bucket/lake/_athena_results/"},
        },
    )
    stub.add_response("get_query_execution", status("SUCCEEDED"), {"QueryExecutionId": "q-1"})
    metadata = {"ColumnInfo": [athena_column("n", "integer")]}
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": [athena_row("n"), athena_row("7")], "ResultSetMetadata": metadata}},
        {"QueryExecutionId": "q-1", "MaxResults": 1000},
    )
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    monkeypatch.setenv("LAKE_ENVIRONMENT", "prod")
    with stub:
        code = cli.main(
            ["query", str(file), "--env", "aws", "--lake-root", "s3://lake-bucket/lake", "--format", "json"]
        )
    assert code == 0
    stub.assert_no_pending_responses()
    assert capsys.readouterr().out == '{"n": 7}\n'
