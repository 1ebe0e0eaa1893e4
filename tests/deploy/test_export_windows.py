"""The export state machine's windows (docs/export_windows.md), run offline: a small interpreter walks the synthesized
definition (Pass, Choice, Task, Wait, Parallel, Succeed, Fail; every JSONata expression evaluated by jsonata-python
with $states bound as Step Functions binds it) against canned AWS answers, so the whole path is tested, run after run.

Recorded formats the inputs follow:
- EventBridge's Scheduled Event: `"time": "2015-10-08T16:53:06Z"` (whole seconds, UTC, Z): the Scheduled Event of
  the EventBridge events reference (userguide/event-reference.html#event-detail-scheduled-event; the same event is
  aws/aws-lambda-rust-runtime's fixture); the stack's rule passes it on as {"time": ...}.
- $states.context.Execution.StartTime: "Format: ISO 8601"
  (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html); the tests give it with
  milliseconds, the finer of the two forms.
- The canned DynamoDB answer refuses what ExportTableToPointInTime refuses: ExportToTime not in the past
  (API_IncrementalExportSpecification: "Time in the past ..."), a window outside 15 minutes .. 24 hours ("from 15
  minutes up to 24 hours", https://aws.amazon.com/blogs/database/introducing-incremental-export-from-amazon-dynamodb-to-amazon-s3/),
  a ClientToken over 64 characters or with a "$" (the botocore model's pattern ^[^$]+$).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.deploy.test_stack import of_type, render

TABLES = ("user_Campaign", "campaignInfo")  # the branch order of the definition (conf: dynamodb_exports)
STATE = "lake/_state/export_windows/{table}.json"
LANDING = "lake/landing/dynamodb/{table}"


def ms(iso: str) -> int:
    """Epoch milliseconds of an ISO time, by Python's own clock arithmetic (not the definition's)."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


class StatesError(Exception):
    def __init__(self, error: str, cause: str = ""):
        super().__init__(f"{error}: {cause}")
        self.error = error


def _evaluate(template: Any, states: dict) -> Any:
    """A JSONata template as Step Functions evaluates one: `{% expr %}` strings, also inside objects and lists."""
    import jsonata

    if isinstance(template, dict):
        return {k: _evaluate(v, states) for k, v in template.items()}
    if isinstance(template, list):
        return [_evaluate(v, states) for v in template]
    if not isinstance(template, str):
        return template
    found = re.fullmatch(r"\{%(.*)%\}", template, re.DOTALL)
    if not found:
        return template
    program = jsonata.Jsonata(found.group(1).strip())
    program.register_lambda("parse", json.loads)  # Step Functions' own $parse (JSON text -> value)
    frame = program.create_frame()
    frame.bind("states", states)
    value = program.evaluate(None, frame)
    if value is None:  # no JSON null flows through these states: undefined is an error, as in the service
        raise StatesError("States.QueryEvaluationError", template)
    return value


@dataclass
class FakeAws:
    """The canned answers of the SDK tasks, and every call made (service:action, arguments)."""

    now: str
    objects: dict[str, str] = field(default_factory=dict)  # the lake bucket: key -> body
    export_status: str = "COMPLETED"  # what DescribeExport answers after one IN_PROGRESS
    calls: list[tuple[str, dict]] = field(default_factory=list)
    described: int = 0

    def __call__(self, action: str, arguments: dict) -> dict:
        self.calls.append((action, arguments))
        if action == "s3:listObjectsV2":
            keys = sorted(k for k in self.objects if k.startswith(arguments["Prefix"]))
            # An empty listing has no Contents member (KeyCount 0), as S3's ListObjectsV2 response.
            return {"KeyCount": len(keys), **({"Contents": [{"Key": k} for k in keys]} if keys else {})}
        if action == "s3:getObject":
            return {"Body": self.objects[arguments["Key"]], "ContentType": "application/json"}
        if action == "s3:putObject":
            self.objects[arguments["Key"]] = arguments["Body"]
            return {"ETag": '"etag"'}
        if action == "dynamodb:exportTableToPointInTime":
            spec = arguments["IncrementalExportSpecification"]
            start, end = ms(spec["ExportFromTime"]), ms(spec["ExportToTime"])
            if not end < ms(self.now):
                raise StatesError("DynamoDb.InvalidExportTimeException", "ExportToTime must be in the past")
            if not 15 * 60_000 <= end - start <= 24 * 3_600_000:
                raise StatesError("DynamoDb.InvalidExportTimeException", "window outside 15 minutes .. 24 hours")
            token = arguments["ClientToken"]
            if len(token) > 64 or "$" in token:
                raise StatesError("DynamoDb.ValidationException", token)
            table = arguments["TableArn"].rsplit("/", 1)[-1]
            arn = f"{arguments['TableArn']}/export/{start}-{end}"
            return {"ExportDescription": {"ExportArn": arn, "ExportStatus": "IN_PROGRESS", "TableArn": table}}
        if action == "dynamodb:describeExport":
            self.described += 1
            status = "IN_PROGRESS" if self.described % 2 else self.export_status
            return {"ExportDescription": {"ExportArn": arguments["ExportArn"], "ExportStatus": status}}
        if action == "glue:startWorkflowRun":
            return {"RunId": "wr_0001"}
        raise AssertionError(f"unexpected call {action}")


class Machine:
    """A Step Functions JSONata state machine definition, run state by state."""

    def __init__(self, definition: dict):
        assert definition["QueryLanguage"] == "JSONata"
        self.definition = definition

    def run(self, execution_input: dict, start_time: str, aws: FakeAws) -> dict:
        context = {"Execution": {"Input": execution_input, "StartTime": start_time}}
        return self._run(self.definition, execution_input, context, aws)

    def _run(self, machine: dict, value: Any, context: dict, aws: FakeAws) -> Any:
        name = machine["StartAt"]
        for _ in range(100):
            state = machine["States"][name]
            states = {"input": value, "context": context}
            kind = state["Type"]
            if kind == "Pass":
                value = _evaluate(state["Output"], states) if "Output" in state else value
            elif kind == "Task":
                service, action = state["Resource"].rsplit(":", 2)[-2:]
                result = aws(f"{service}:{action}", _evaluate(state.get("Arguments", {}), states))
                value = _evaluate(state["Output"], {**states, "result": result}) if "Output" in state else result
            elif kind == "Parallel":
                value = [self._run(branch, value, context, aws) for branch in state["Branches"]]
            elif kind == "Choice":
                taken = [c["Next"] for c in state["Choices"] if _evaluate(c["Condition"], states) is True]
                name = taken[0] if taken else state["Default"]
                continue
            elif kind == "Wait":
                assert state["Seconds"] > 0
            elif kind == "Succeed":
                return value
            elif kind == "Fail":
                raise StatesError(state["Error"], state.get("Cause", ""))
            else:
                raise AssertionError(f"state type {kind} not interpreted")
            if state.get("End"):
                return value
            name = state["Next"]
        raise AssertionError("more than 100 states: a loop that never ends")


@pytest.fixture(scope="module")
def machine(resources, conf) -> Machine:
    # The expected windows below are written for the conf's 15-minute lag.
    assert conf["deploy"]["schedules"]["campaign"]["export_lag_minutes"] == 15
    assert tuple(conf["deploy"]["schedules"]["campaign"]["dynamodb_exports"]) == TABLES
    (properties,) = of_type(resources, "AWS::StepFunctions::StateMachine").values()
    return Machine(json.loads(render(properties["DefinitionString"])))


def state(table: str, start: str, end: str) -> str:
    """A window state object as the machine writes it (exportArn: the canned export's)."""
    arn = f"arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{table}/export/"
    return json.dumps(
        {"table": table, "exportFromTime": start, "exportToTime": end, "exportArn": f"{arn}{ms(start)}-{ms(end)}"},
        separators=(",", ":"),
    )


def exported(aws: FakeAws) -> list[tuple[str, str, str, str]]:
    """(table, ExportFromTime, ExportToTime, ClientToken) of each export asked for."""
    return [
        (
            a["TableArn"].rsplit("/", 1)[-1],
            a["IncrementalExportSpecification"]["ExportFromTime"],
            a["IncrementalExportSpecification"]["ExportToTime"],
            a["ClientToken"],
        )
        for action, a in aws.calls
        if action == "dynamodb:exportTableToPointInTime"
    ]


def started(aws: FakeAws) -> list[dict]:
    return [a for action, a in aws.calls if action == "glue:startWorkflowRun"]


def both(start: str, end: str) -> dict[str, str]:
    return {STATE.format(table=t): state(t, start, end) for t in TABLES}


def test_the_first_run_exports_the_hour_before_the_lag_and_records_it(machine, physical):
    aws = FakeAws(now="2026-12-07T13:00:02.000Z")
    out = machine.run({"time": "2026-12-07T13:00:00Z"}, "2026-12-07T13:00:01.512Z", aws)
    assert out == {"RunId": "wr_0001"}
    f, t = ms("2026-12-07T11:45:00Z"), ms("2026-12-07T12:45:00Z")
    assert exported(aws) == [
        ("user_Campaign", "2026-12-07T11:45:00.000Z", "2026-12-07T12:45:00.000Z", f"dev-user_Campaign-{f}-{t}"),
        ("campaignInfo", "2026-12-07T11:45:00.000Z", "2026-12-07T12:45:00.000Z", f"dev-campaignInfo-{f}-{t}"),
    ]
    assert aws.objects == both("2026-12-07T11:45:00.000Z", "2026-12-07T12:45:00.000Z")
    assert started(aws) == [{"Name": physical("workflow", "campaign")}]
    # The state is listed by its exact key, read only when listed, written only after COMPLETED.
    actions = [a for a, _ in aws.calls]
    assert actions == [
        "s3:listObjectsV2",
        "dynamodb:exportTableToPointInTime",
        "dynamodb:describeExport",
        "dynamodb:describeExport",
        "s3:putObject",
        "s3:listObjectsV2",
        "dynamodb:exportTableToPointInTime",
        "dynamodb:describeExport",
        "dynamodb:describeExport",
        "s3:putObject",
        "glue:startWorkflowRun",
    ]
    listing = aws.calls[0][1]
    assert listing["Prefix"] == STATE.format(table="user_Campaign") and listing["Bucket"] == "${Lake5F1B88EA}"
    put = aws.calls[4][1]
    assert (put["Key"], put["ContentType"]) == (STATE.format(table="user_Campaign"), "application/json")


def test_a_normal_hour_starts_where_the_last_window_ended(machine):
    aws = FakeAws(now="2026-12-07T14:00:03.000Z", objects=both("2026-12-07T11:45:00.000Z", "2026-12-07T12:45:00.000Z"))
    machine.run({"time": "2026-12-07T14:00:00Z"}, "2026-12-07T14:00:00.870Z", aws)
    assert [e[1:3] for e in exported(aws)] == [("2026-12-07T12:45:00.000Z", "2026-12-07T13:45:00.000Z")] * 2
    assert [a for a, _ in aws.calls].count("s3:getObject") == 2
    assert aws.objects == both("2026-12-07T12:45:00.000Z", "2026-12-07T13:45:00.000Z")


def test_a_missed_hour_is_exported_by_the_next_run_as_one_longer_window(machine):
    # The 13:00 run failed: the state still ends at 11:45; the 14:00 run exports two hours at once.
    aws = FakeAws(now="2026-12-07T14:00:03.000Z", objects=both("2026-12-07T10:45:00.000Z", "2026-12-07T11:45:00.000Z"))
    machine.run({"time": "2026-12-07T14:00:00Z"}, "2026-12-07T14:00:01.000Z", aws)
    assert [e[1:3] for e in exported(aws)] == [("2026-12-07T11:45:00.000Z", "2026-12-07T13:45:00.000Z")] * 2
    assert aws.objects == both("2026-12-07T11:45:00.000Z", "2026-12-07T13:45:00.000Z")


def test_a_run_30_hours_late_exports_24_hours_then_the_next_run_catches_up(machine):
    aws = FakeAws(now="2026-12-07T14:00:03.000Z", objects=both("2026-12-06T06:45:00.000Z", "2026-12-06T07:45:00.000Z"))
    machine.run({"time": "2026-12-07T14:00:00Z"}, "2026-12-07T14:00:01.000Z", aws)
    assert [e[1:3] for e in exported(aws)] == [("2026-12-06T07:45:00.000Z", "2026-12-07T07:45:00.000Z")] * 2
    assert aws.objects == both("2026-12-06T07:45:00.000Z", "2026-12-07T07:45:00.000Z")
    aws.calls.clear()
    aws.now = "2026-12-07T15:00:03.000Z"
    machine.run({"time": "2026-12-07T15:00:00Z"}, "2026-12-07T15:00:01.000Z", aws)
    assert [e[1:3] for e in exported(aws)] == [("2026-12-07T07:45:00.000Z", "2026-12-07T14:45:00.000Z")] * 2
    assert aws.objects == both("2026-12-07T07:45:00.000Z", "2026-12-07T14:45:00.000Z")


def test_a_run_within_the_lag_of_the_last_window_asks_for_nothing_and_ends_cleanly(machine):
    # By hand at 14:10 after the 14:00 run: ExportToTime could be at most 13:55, floored to 13:45 = the state's end.
    before = both("2026-12-07T12:45:00.000Z", "2026-12-07T13:45:00.000Z")
    aws = FakeAws(now="2026-12-07T14:10:06.000Z", objects=dict(before))
    out = machine.run({}, "2026-12-07T14:10:05.250Z", aws)
    assert exported(aws) == [] and started(aws) == []
    assert aws.objects == before
    window = {"exported": False, "from": "2026-12-07T13:45:00.000Z", "to": "2026-12-07T13:45:00.000Z"}
    assert out == [{"table": t, **window} for t in TABLES]  # Succeed "Nothing to export" passes the branches' output


@pytest.mark.parametrize(
    ("start_time", "window"),
    [
        # clock - lag exactly on a 15-minute boundary: that boundary is the end
        ("2026-12-07T14:15:00.000Z", ("2026-12-07T13:45:00.000Z", "2026-12-07T14:00:00.000Z")),
        # one millisecond before it: the boundary before, so nothing (the window would be empty)
        ("2026-12-07T14:14:59.999Z", None),
        # the same hour's start, across a day and a year
        ("2027-01-01T00:15:00.000Z", ("2026-12-07T13:45:00.000Z", "2026-12-08T13:45:00.000Z")),
    ],
)
def test_exact_boundaries(machine, start_time, window):
    aws = FakeAws(now=start_time, objects=both("2026-12-07T12:45:00.000Z", "2026-12-07T13:45:00.000Z"))
    machine.run({"time": start_time[:19] + "Z"}, start_time, aws)
    assert [e[1:3] for e in exported(aws)] == ([window] * 2 if window else [])


def test_a_scheduled_time_later_than_the_start_is_not_trusted(machine):
    # A hand-started {"time": ...} in the future: the execution's start is the clock.
    aws = FakeAws(now="2026-12-07T15:00:01.000Z", objects=both("2026-12-07T12:45:00.000Z", "2026-12-07T13:45:00.000Z"))
    machine.run({"time": "2030-01-01T00:00:00Z"}, "2026-12-07T15:00:00.500Z", aws)
    assert [e[1:3] for e in exported(aws)] == [("2026-12-07T13:45:00.000Z", "2026-12-07T14:45:00.000Z")] * 2


def test_a_run_by_hand_with_from_re_exports_and_never_moves_the_state_back(machine):
    recorded = both("2026-12-07T12:45:00.000Z", "2026-12-07T13:45:00.000Z")
    aws = FakeAws(now="2026-12-07T14:30:01.000Z", objects=dict(recorded))
    machine.run({"from": "2026-12-01T00:00:00Z"}, "2026-12-07T14:30:00.000Z", aws)
    assert [e[1:3] for e in exported(aws)] == [("2026-12-01T00:00:00.000Z", "2026-12-02T00:00:00.000Z")] * 2
    assert {k: json.loads(v)["exportToTime"] for k, v in aws.objects.items()} == {
        k: "2026-12-07T13:45:00.000Z" for k in recorded
    }
    # A `from` whose window reaches past the recorded end moves it forward to the window's end.
    aws.calls.clear()
    machine.run({"from": "2026-12-07T10:00:00Z"}, "2026-12-07T14:30:00.000Z", aws)
    assert [e[1:3] for e in exported(aws)] == [("2026-12-07T10:00:00.000Z", "2026-12-07T14:15:00.000Z")] * 2
    assert {k: json.loads(v)["exportToTime"] for k, v in aws.objects.items()} == {
        k: "2026-12-07T14:15:00.000Z" for k in recorded
    }


def test_a_failed_export_records_nothing_and_the_next_run_asks_the_same_start_again(machine):
    before = both("2026-12-07T11:45:00.000Z", "2026-12-07T12:45:00.000Z")
    aws = FakeAws(now="2026-12-07T14:00:03.000Z", objects=dict(before), export_status="FAILED")
    with pytest.raises(StatesError) as failed:
        machine.run({"time": "2026-12-07T14:00:00Z"}, "2026-12-07T14:00:01.000Z", aws)
    assert failed.value.error == "ExportFailed"
    assert aws.objects == before and started(aws) == []
    aws.calls.clear()
    aws.export_status, aws.now = "COMPLETED", "2026-12-07T15:00:03.000Z"
    machine.run({"time": "2026-12-07T15:00:00Z"}, "2026-12-07T15:00:01.000Z", aws)
    assert [e[1:3] for e in exported(aws)] == [("2026-12-07T12:45:00.000Z", "2026-12-07T14:45:00.000Z")] * 2


def test_a_state_object_without_its_end_fails_the_run_before_any_export(machine):
    broken = {STATE.format(table=t): json.dumps({"table": t}) for t in TABLES}
    aws = FakeAws(now="2026-12-07T14:00:03.000Z", objects=dict(broken))
    with pytest.raises(StatesError) as failed:
        machine.run({"time": "2026-12-07T14:00:00Z"}, "2026-12-07T14:00:01.000Z", aws)
    assert failed.value.error == "ExportWindowStateInvalid"
    assert exported(aws) == [] and aws.objects == broken


def test_a_retried_window_sends_the_same_token_and_another_window_another(machine):
    tokens = []
    for _ in range(2):
        aws = FakeAws(
            now="2026-12-07T14:00:03.000Z", objects=both("2026-12-07T11:45:00.000Z", "2026-12-07T12:45:00.000Z")
        )
        machine.run({"time": "2026-12-07T14:00:00Z"}, "2026-12-07T14:00:01.000Z", aws)
        tokens.append([e[3] for e in exported(aws)])
    assert tokens[0] == tokens[1]
    assert tokens[0] == [
        f"dev-{t}-{ms('2026-12-07T12:45:00Z')}-{ms('2026-12-07T13:45:00Z')}" for t in TABLES
    ]  # environment, table, from, to


def test_the_token_prefix_keeps_every_token_within_64_characters():
    from deploy.stack import _token_prefix

    assert _token_prefix("dev", "user_Campaign") == "dev-user_Campaign"
    longest = _token_prefix("production-eu-west", "t" * 255)  # DynamoDB table names: up to 255 characters
    other = _token_prefix("production-eu-west", "t" * 254 + "u")
    assert len(longest) == 36 and longest != other and longest.startswith("production-eu-west-")
    assert len(f"{longest}-{ms('2286-11-20T17:46:39Z')}-{ms('2286-11-20T17:46:39Z')}") == 64
    assert datetime(2286, 11, 20, 17, 46, 39, tzinfo=UTC).timestamp() * 1000 < 10**13  # 13 digits until then
