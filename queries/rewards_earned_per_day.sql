-- Rewards earned per day (UTC date of the validation) and campaign, from completed tasks.
SELECT
  CAST(date_trunc('day', validated_at) AS DATE) AS day,
  campaign_id,
  COUNT(*) AS completed_tasks,
  COUNT(DISTINCT user_id) AS users,
  SUM(reward_earned) AS rewards_earned
FROM curated.campaign_task_progress
WHERE task_progress_state = 'COMPLETED'
GROUP BY 1, 2
ORDER BY day, campaign_id
