-- Sales per shipping country and currency; cancelled orders excluded.
SELECT
  s.country,
  p.currency,
  count(*) AS orders,
  sum(p.amount) AS sales
FROM curated.shipping_addresses s
JOIN curated.purchase_details p
  ON p.order_id = s.order_id AND p.order_date = s.order_date
JOIN curated.orders o
  ON o.order_id = s.order_id AND o.order_date = s.order_date
WHERE o.status <> 'cancelled'
GROUP BY s.country, p.currency
ORDER BY s.country, p.currency
