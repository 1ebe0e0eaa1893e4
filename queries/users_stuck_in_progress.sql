-- Users in progress on a campaign with some of its tasks not completed: which, the nearest deadline
-- among them, and the user's last validation. Soonest deadline first.
WITH users_in_progress AS (
  SELECT user_id, campaign_id, MAX(validated_at) AS last_validated_at
  FROM curated.campaign_task_progress
  WHERE campaign_progress_state = 'IN_PROGRESS'
  GROUP BY user_id, campaign_id
),
open_tasks AS (
  SELECT u.user_id, u.campaign_id, t.task_id, t.task_deadline
  FROM users_in_progress u
  JOIN curated.campaign_tasks t
    ON t.campaign_id = u.campaign_id
  LEFT JOIN curated.campaign_task_progress p
    ON p.user_id = u.user_id
    AND p.campaign_id = t.campaign_id
    AND p.task_id = t.task_id
    AND p.task_progress_state = 'COMPLETED'
  WHERE p.task_id IS NULL
)
SELECT
  u.user_id,
  u.campaign_id,
  COUNT(*) AS open_tasks,
  array_join(array_sort(array_agg(o.task_id)), ', ') AS open_task_ids,
  MIN(o.task_deadline) AS next_deadline,
  u.last_validated_at
FROM users_in_progress u
JOIN open_tasks o
  ON o.user_id = u.user_id
  AND o.campaign_id = u.campaign_id
GROUP BY u.user_id, u.campaign_id, u.last_validated_at
ORDER BY next_deadline, u.user_id
