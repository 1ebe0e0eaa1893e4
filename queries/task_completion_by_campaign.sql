-- Completion rate per campaign and task: share of users whose task is COMPLETED (a double: avg and round
-- answer differently on Athena and Spark, so the rate is a plain division of counts).
SELECT
  campaign_id,
  task_id,
  COUNT(*) AS users,
  SUM(CASE WHEN task_progress_state = 'COMPLETED' THEN 1 ELSE 0 END) AS completed,
  CAST(COUNT_IF(task_progress_state = 'COMPLETED') AS DOUBLE) / COUNT(*) AS completion_rate
FROM curated.campaign_task_progress
GROUP BY campaign_id, task_id
ORDER BY campaign_id, task_id
