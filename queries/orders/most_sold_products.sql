-- The ten products sold in the largest quantities (all orders' current lines), with how many orders hold them.
SELECT
  product_id,
  name,
  sum(quantity) AS units_sold,
  count(DISTINCT order_id) AS orders
FROM curated.product_details
GROUP BY product_id, name
ORDER BY units_sold DESC, product_id
LIMIT 10
