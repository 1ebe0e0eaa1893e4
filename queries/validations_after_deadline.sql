-- Validations after the task's deadline, per campaign and task, with the smallest margin left before it
-- (negative: hours late). Tasks without a known deadline are in tasks_without_deadline.sql.
SELECT
  campaign_id,
  task_id,
  COUNT(*) AS validations,
  COUNT_IF(validated_at > task_deadline) AS after_deadline,
  MIN(date_diff('hour', validated_at, task_deadline)) AS min_hours_before_deadline
FROM curated.campaign_task_progress
WHERE task_deadline IS NOT NULL
  AND validated_at IS NOT NULL
GROUP BY campaign_id, task_id
ORDER BY after_deadline DESC, campaign_id, task_id
