-- One line per campaign: tasks and rewards on offer, last task deadline, users with progress,
-- completed tasks and rewards earned.
WITH tasks AS (
  SELECT
    campaign_id,
    COUNT(*) AS tasks,
    SUM(reward_amount) AS rewards_on_offer,
    MAX(task_deadline) AS last_deadline
  FROM curated.campaign_tasks
  GROUP BY campaign_id
),
progress AS (
  SELECT
    campaign_id,
    COUNT(DISTINCT user_id) AS users,
    COUNT_IF(task_progress_state = 'COMPLETED') AS completed_tasks,
    SUM(reward_earned) AS rewards_earned
  FROM curated.campaign_task_progress
  GROUP BY campaign_id
)
SELECT
  COALESCE(t.campaign_id, p.campaign_id) AS campaign_id,
  COALESCE(t.tasks, 0) AS tasks,
  t.rewards_on_offer,
  t.last_deadline,
  COALESCE(p.users, 0) AS users,
  COALESCE(p.completed_tasks, 0) AS completed_tasks,
  p.rewards_earned
FROM tasks t
FULL OUTER JOIN progress p
  ON p.campaign_id = t.campaign_id
ORDER BY 1
