-- Completion rate per campaign and task: share of users whose task is COMPLETED.
SELECT
  campaign_id,
  task_id,
  COUNT(*) AS users,
  SUM(CASE WHEN task_progress_state = 'COMPLETED' THEN 1 ELSE 0 END) AS completed,
  ROUND(AVG(CASE WHEN task_progress_state = 'COMPLETED' THEN 1.0 ELSE 0.0 END), 3) AS completion_rate
FROM curated.campaign_task_progress
GROUP BY campaign_id, task_id
ORDER BY campaign_id, task_id
