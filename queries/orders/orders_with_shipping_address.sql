-- The latest orders with where they ship to (an order without an address is still listed).
SELECT
  o.order_id,
  o.customer_id,
  o.order_ts,
  o.status,
  s.street,
  s.city,
  s.state,
  s.zip,
  s.country
FROM curated.orders o
LEFT JOIN curated.shipping_addresses s
  ON s.order_id = o.order_id AND s.order_date = o.order_date
ORDER BY o.order_ts DESC, o.order_id
LIMIT 100
