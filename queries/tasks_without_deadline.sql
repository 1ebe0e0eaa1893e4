-- Progress on tasks without a known deadline: the campaign is unknown to campaignInfo, or the task is not
-- (or no longer) one of the campaign's tasks. Such rows are kept in the curated table with a null deadline.
SELECT
  p.campaign_id,
  p.task_id,
  CASE WHEN c.campaign_id IS NULL THEN 'unknown campaign' ELSE 'task not in campaign' END AS reason,
  COUNT(*) AS users,
  MIN(p.validated_at) AS first_validated_at,
  SUM(p.reward_earned) AS rewards_earned
FROM curated.campaign_task_progress p
LEFT JOIN (SELECT DISTINCT campaign_id FROM curated.campaign_tasks) c
  ON c.campaign_id = p.campaign_id
WHERE p.task_deadline IS NULL
GROUP BY 1, 2, 3
ORDER BY 1, 2
