-- Average order value per currency (amounts in different currencies are not added up), over current orders.
SELECT
  p.currency,
  count(*) AS orders,
  -- sum / count rather than avg: Athena and Spark give avg of a decimal different scales (lake query refuses it)
  CAST(sum(p.amount) / count(p.amount) AS decimal(12, 2)) AS average_order_value,
  sum(p.amount) AS total
FROM curated.purchase_details p
GROUP BY p.currency
ORDER BY p.currency
