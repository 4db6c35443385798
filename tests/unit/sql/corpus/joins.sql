--@ stream-table inner join
SELECT p.userid, p.pageid, u.regionid FROM pageviews p JOIN users u ON p.userid = u.userid EMIT CHANGES;
--@ stream-table left join as csas
CREATE STREAM pv_enriched AS SELECT p.userid, p.pageid, u.regionid, u.gender FROM pageviews p LEFT JOIN users u ON p.userid = u.userid;
DESCRIBE pv_enriched;
--@ stream-table join on a non-key stream column repartitions
SELECT o.orderid, c.name FROM orders o JOIN customers c ON o.customerid = c.customerid EMIT CHANGES;
--@ csas stream-table join keyed by the join expression
CREATE STREAM orders_enriched AS SELECT o.customerid, o.orderid, c.name FROM orders o LEFT JOIN customers c ON o.customerid = c.customerid;
--@ csas join without the join key
CREATE STREAM nokeyjoin AS SELECT o.orderid, c.name FROM orders o LEFT JOIN customers c ON o.customerid = c.customerid;
--@ select star over a join
SELECT * FROM pageviews p JOIN users u ON p.userid = u.userid EMIT CHANGES;
--@ select alias star
SELECT u.*, p.pageid FROM pageviews p JOIN users u ON p.userid = u.userid EMIT CHANGES;
--@ stream-table join on a non-key table column
SELECT * FROM pageviews p JOIN users u ON p.pageid = u.regionid EMIT CHANGES;
--@ table-stream join order
SELECT * FROM users u JOIN pageviews p ON u.userid = p.userid EMIT CHANGES;
--@ stream-table full outer join
SELECT * FROM pageviews p FULL OUTER JOIN users u ON p.userid = u.userid EMIT CHANGES;
--@ stream-table join with within
SELECT * FROM pageviews p JOIN users u WITHIN 1 HOUR ON p.userid = u.userid EMIT CHANGES;
--@ stream-stream join needs within
SELECT * FROM orders o JOIN payments p ON o.orderid = p.orderid EMIT CHANGES;
--@ stream-stream join symmetric within
SELECT o.orderid, p.paymentid, p.amount FROM orders o JOIN payments p WITHIN 1 HOUR ON o.orderid = p.orderid EMIT CHANGES;
--@ stream-stream join asymmetric within and grace
CREATE STREAM paid AS SELECT o.orderid, o.amount, p.paymentid FROM orders o LEFT JOIN payments p WITHIN (0 SECONDS, 2 HOURS) GRACE PERIOD 10 MINUTES ON o.orderid = p.orderid;
--@ stream-stream outer join
SELECT o.orderid, p.paymentid FROM orders o FULL OUTER JOIN payments p WITHIN 10 MINUTES ON o.orderid = p.orderid EMIT CHANGES;
--@ three-way join
SELECT o.orderid, p.paymentid, s.warehouse FROM orders o JOIN payments p WITHIN 1 HOUR ON o.orderid = p.orderid JOIN shipments s WITHIN 2 HOURS ON o.orderid = s.orderid EMIT CHANGES;
--@ csas three-way join
CREATE STREAM order_flow AS SELECT o.orderid, p.paymentid, s.shipmentid FROM orders o JOIN payments p WITHIN 1 HOUR ON o.orderid = p.orderid JOIN shipments s WITHIN 2 HOURS ON p.orderid = s.orderid;
--@ stream, stream, then table
SELECT o.customerid, c.name, p.amount FROM orders o JOIN payments p WITHIN 1 HOUR ON o.orderid = p.orderid JOIN customers c ON o.customerid = c.customerid EMIT CHANGES;
--@ table-table primary key join
SELECT u.userid, u.regionid, c.name FROM users u JOIN customers c ON u.userid = c.customerid EMIT CHANGES;
CREATE TABLE user_customer AS SELECT u.userid, u.regionid, c.name FROM users u LEFT JOIN customers c ON u.userid = c.customerid;
--@ table-table outer join
SELECT * FROM users u FULL OUTER JOIN customers c ON u.userid = c.customerid EMIT CHANGES;
--@ table-table foreign key join
SELECT u.userid, u.regionid, p.name FROM users u JOIN products p ON u.regionid = p.productid EMIT CHANGES;
CREATE TABLE users_with_product AS SELECT u.userid, p.name FROM users u LEFT JOIN products p ON u.regionid = p.productid;
--@ foreign key full outer join is refused
SELECT * FROM users u FULL OUTER JOIN products p ON u.regionid = p.productid EMIT CHANGES;
--@ join co-partitioning refused with the fix
SELECT r.sensor, u.regionid FROM readings r JOIN users u ON r.sensor = u.userid EMIT CHANGES;
--@ table-table co-partitioning
CREATE TABLE users3 (userid STRING PRIMARY KEY, nickname STRING) WITH (kafka_topic='three', value_format='JSON');
SELECT * FROM users u JOIN users3 n ON u.userid = n.userid EMIT CHANGES;
--@ join with mismatched key types
SELECT * FROM orders o JOIN customers c ON o.orderid = c.customerid EMIT CHANGES;
--@ join on an expression that is not an equality
SELECT * FROM pageviews p JOIN users u ON p.userid <> u.userid EMIT CHANGES;
--@ join on two conditions
SELECT * FROM pageviews p JOIN users u ON p.userid = u.userid AND p.pageid = u.regionid EMIT CHANGES;
--@ ambiguous column in a join
SELECT userid FROM pageviews p JOIN users u ON p.userid = u.userid EMIT CHANGES;
--@ unknown alias
SELECT x.userid FROM pageviews p JOIN users u ON p.userid = u.userid EMIT CHANGES;
--@ self join without aliases
SELECT * FROM orders JOIN orders WITHIN 1 HOUR ON orders.orderid = orders.orderid EMIT CHANGES;
--@ self join with aliases
SELECT a.orderid, b.amount FROM orders a JOIN orders b WITHIN 1 HOUR ON a.orderid = b.orderid EMIT CHANGES;
--@ right join
SELECT * FROM orders o RIGHT JOIN payments p WITHIN 1 HOUR ON o.orderid = p.orderid EMIT CHANGES;
--@ join then aggregate
SELECT u.regionid, COUNT(*) AS views FROM pageviews p JOIN users u ON p.userid = u.userid WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY u.regionid EMIT CHANGES;
--@ join with where on both sides
SELECT p.pageid, u.gender FROM pageviews p LEFT JOIN users u ON p.userid = u.userid WHERE u.gender = 'FEMALE' AND p.viewtime > 0 EMIT CHANGES;
