--@ count by key
SELECT userid, COUNT(*) AS views FROM pageviews GROUP BY userid EMIT CHANGES;
--@ ctas count by key
CREATE TABLE views_per_user AS SELECT userid, COUNT(*) AS views FROM pageviews GROUP BY userid EMIT CHANGES;
DESCRIBE views_per_user;
--@ group by a non-key column repartitions
SELECT pageid, COUNT(*) FROM pageviews GROUP BY pageid EMIT CHANGES;
--@ all ksqlDB aggregates
SELECT customerid, COUNT(*), COUNT(itemid), SUM(amount), AVG(amount), MIN(amount), MAX(price), LATEST_BY_OFFSET(itemid), EARLIEST_BY_OFFSET(itemid), COLLECT_LIST(itemid), COLLECT_SET(itemid), TOPK(amount, 3), TOPKDISTINCT(amount, 2), HISTOGRAM(itemid), COUNT_DISTINCT(itemid), STDDEV_SAMP(amount) FROM orders GROUP BY customerid EMIT CHANGES;
--@ latest by offset with n
SELECT customerid, LATEST_BY_OFFSET(amount, 3) AS last3, EARLIEST_BY_OFFSET(amount, 2, false) AS first2 FROM orders GROUP BY customerid EMIT CHANGES;
--@ correlation
SELECT customerid, CORRELATION(amount, CAST(price AS DOUBLE)) FROM orders GROUP BY customerid EMIT CHANGES;
--@ tumbling window
SELECT userid, COUNT(*) AS n, WINDOWSTART AS ws, WINDOWEND AS we FROM pageviews WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY userid EMIT CHANGES;
--@ tumbling window with retention and grace
CREATE TABLE pv_per_min AS SELECT userid, COUNT(*) AS n FROM pageviews WINDOW TUMBLING (SIZE 60 SECONDS, RETENTION 7 DAYS, GRACE PERIOD 30 SECONDS) GROUP BY userid;
DESCRIBE pv_per_min;
--@ hopping window
SELECT userid, COUNT(*) FROM pageviews WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 1 SECOND) GROUP BY userid EMIT CHANGES;
--@ hopping window without advance
SELECT userid, COUNT(*) FROM pageviews WINDOW HOPPING (SIZE 10 SECONDS) GROUP BY userid EMIT CHANGES;
--@ tumbling window with advance
SELECT userid, COUNT(*) FROM pageviews WINDOW TUMBLING (SIZE 10 SECONDS, ADVANCE BY 1 SECOND) GROUP BY userid EMIT CHANGES;
--@ session window
SELECT ip, COUNT(*) AS clicks, MIN(ts), MAX(ts) FROM clicks WINDOW SESSION (5 MINUTES) GROUP BY ip EMIT CHANGES;
--@ session window with grace
CREATE TABLE sessions AS SELECT ip, COUNT(*) AS n FROM clicks WINDOW SESSION (30 SECONDS, GRACE PERIOD 5 SECONDS) GROUP BY ip;
--@ emit final
SELECT userid, COUNT(*) FROM pageviews WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY userid EMIT FINAL;
--@ emit final without a window
SELECT userid, COUNT(*) FROM pageviews GROUP BY userid EMIT FINAL;
--@ having
SELECT customerid, SUM(amount) AS total FROM orders GROUP BY customerid HAVING SUM(amount) > 100 EMIT CHANGES;
--@ having without group by
SELECT * FROM orders HAVING amount > 1 EMIT CHANGES;
--@ aggregate without group by
SELECT COUNT(*) FROM orders EMIT CHANGES;
--@ group by without aggregate
SELECT customerid FROM orders GROUP BY customerid EMIT CHANGES;
--@ non-aggregate column not in group by
SELECT customerid, itemid, COUNT(*) FROM orders GROUP BY customerid EMIT CHANGES;
--@ group by several columns
SELECT customerid, itemid, COUNT(*) AS n FROM orders GROUP BY customerid, itemid EMIT CHANGES;
--@ ctas group by several columns takes a JSON key
CREATE TABLE by_two AS SELECT customerid, itemid, COUNT(*) AS n FROM orders GROUP BY customerid, itemid;
DESCRIBE by_two;
--@ group by an expression
SELECT UCASE(itemid), COUNT(*) FROM orders GROUP BY UCASE(itemid) EMIT CHANGES;
--@ group by a struct field
SELECT address->city, SUM(amount) FROM orders GROUP BY address->city EMIT CHANGES;
--@ expression over aggregates
SELECT customerid, SUM(amount) / COUNT(*) AS mean, MAX(amount) - MIN(amount) AS spread FROM orders GROUP BY customerid EMIT CHANGES;
--@ nested aggregates
SELECT customerid, SUM(COUNT(*)) FROM orders GROUP BY customerid EMIT CHANGES;
--@ aggregate in where
SELECT customerid FROM orders WHERE COUNT(*) > 1 GROUP BY customerid EMIT CHANGES;
--@ table aggregation
SELECT regionid, COUNT(*) AS users FROM users GROUP BY regionid EMIT CHANGES;
CREATE TABLE users_per_region AS SELECT regionid, COUNT(*) AS users FROM users GROUP BY regionid;
--@ table aggregation with a function that cannot undo
SELECT regionid, MAX(registertime) FROM users GROUP BY regionid EMIT CHANGES;
--@ windowed table aggregation
SELECT regionid, COUNT(*) FROM users WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY regionid EMIT CHANGES;
--@ window without group by
SELECT * FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) EMIT CHANGES;
--@ partition by with group by
SELECT customerid, COUNT(*) FROM orders GROUP BY customerid PARTITION BY customerid EMIT CHANGES;
--@ topk needs a literal
SELECT customerid, TOPK(amount, orderid) FROM orders GROUP BY customerid EMIT CHANGES;
--@ count star on something else
SELECT customerid, SUM(*) FROM orders GROUP BY customerid EMIT CHANGES;
--@ pull query over a windowed table
CREATE TABLE per_min AS SELECT userid, COUNT(*) AS n FROM pageviews WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY userid;
SELECT * FROM per_min WHERE userid = 'User_1' AND WINDOWSTART >= 0;
