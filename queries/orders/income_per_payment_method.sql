-- Income per payment method and currency; cancelled orders bring none.
SELECT
  p.payment_type,
  p.currency,
  count(*) AS orders,
  sum(p.amount) AS income
FROM curated.purchase_details p
JOIN curated.orders o
  ON o.order_id = p.order_id AND o.order_date = p.order_date
WHERE o.status <> 'cancelled'
GROUP BY p.payment_type, p.currency
ORDER BY income DESC, p.payment_type, p.currency
