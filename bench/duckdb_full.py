"""The reference: the curated transform done by DuckDB straight from the full exports (explode, join, write).

Run: python bench/duckdb_full.py LANDING OUT_DIR
"""

from __future__ import annotations

import sys
import time

import duckdb

S = "STRUCT(S VARCHAR)"
N = "STRUCT(N VARCHAR)"
PROGRESS = (
    f"STRUCT(L STRUCT(M STRUCT(taskID {S}, userCampaignTaskProgressState {S}, validatedAt {S}, "
    f"validationFailureReason {S}, rewardEarned {N}))[])"
)
USER_ITEM = (
    f"STRUCT(userID {S}, campaignID {S}, userCampaignProgressState {S}, createdAt {S}, updatedAt {S}, "
    f"totalTaskRewardsEarned {N}, progressDetails {PROGRESS})"
)
TASKS = f"STRUCT(L STRUCT(M STRUCT(taskID {S}, rewardAmount {N}, taskDeadline {S}))[])"
CAMPAIGN_ITEM = f"STRUCT(campaignID {S}, campaignTasks {TASKS})"


def utc(expression: str) -> str:
    return f"timezone('UTC', CAST({expression} AS TIMESTAMPTZ))"


def run(landing: str, out: str) -> float:
    started = time.monotonic()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    users = f"{landing}/dynamodb/user_Campaign/AWSDynamoDB/*/data/*.json.gz"
    campaigns = f"{landing}/dynamodb/campaignInfo/AWSDynamoDB/*/data/*.json.gz"
    con.execute(f"""
        CREATE TEMP TABLE entries AS
        SELECT i.Item.userID.S AS user_id, i.Item.campaignID.S AS campaign_id,
               i.Item.userCampaignProgressState.S AS campaign_progress_state,
               CAST(i.Item.totalTaskRewardsEarned.N AS DECIMAL(38,6)) AS total_task_rewards_earned,
               {utc("i.Item.createdAt.S")} AS created_at, {utc("i.Item.updatedAt.S")} AS updated_at,
               UNNEST(i.Item.progressDetails.L) AS e, generate_subscripts(i.Item.progressDetails.L, 1) AS pos
        FROM read_json('{users}', format='newline_delimited', columns={{'Item': '{USER_ITEM}'}}) AS i
    """)
    con.execute(f"""
        CREATE TEMP TABLE deadlines AS
        SELECT campaign_id, t.M.taskID.S AS task_id, {utc("t.M.taskDeadline.S")} AS task_deadline
        FROM (SELECT c.Item.campaignID.S AS campaign_id, UNNEST(c.Item.campaignTasks.L) AS t,
                     generate_subscripts(c.Item.campaignTasks.L, 1) AS pos
              FROM read_json('{campaigns}', format='newline_delimited', columns={{'Item': '{CAMPAIGN_ITEM}'}}) AS c)
        QUALIFY row_number() OVER (PARTITION BY campaign_id, t.M.taskID.S ORDER BY pos DESC) = 1
    """)
    con.execute(f"""
        COPY (
          SELECT p.user_id, p.campaign_id, p.task_id, p.task_progress_state, p.validated_at,
                 p.validation_failure_reason, p.reward_earned, p.campaign_progress_state,
                 p.total_task_rewards_earned, p.created_at, p.updated_at, d.task_deadline,
                 CAST(p.created_at AS DATE) AS created_date
          FROM (
            SELECT user_id, campaign_id, e.M.taskID.S AS task_id,
                   e.M.userCampaignTaskProgressState.S AS task_progress_state,
                   {utc("e.M.validatedAt.S")} AS validated_at,
                   NULLIF(e.M.validationFailureReason.S, '') AS validation_failure_reason,
                   CAST(e.M.rewardEarned.N AS DECIMAL(38,6)) AS reward_earned,
                   campaign_progress_state, total_task_rewards_earned, created_at, updated_at, pos
            FROM entries WHERE e.M.taskID.S IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY user_id, campaign_id, task_id
                                       ORDER BY validated_at DESC NULLS LAST, pos DESC) = 1
          ) AS p LEFT JOIN deadlines AS d USING (campaign_id, task_id)
        ) TO '{out}' (FORMAT PARQUET, PARTITION_BY (created_date), OVERWRITE_OR_IGNORE)
    """)
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}/*/*.parquet')").fetchone()[0]
    elapsed = time.monotonic() - started
    print(f"duckdb: {rows} rows in {elapsed:.1f}s")
    return elapsed


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2])
