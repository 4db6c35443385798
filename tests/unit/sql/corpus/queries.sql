--@ select star push
SELECT * FROM pageviews EMIT CHANGES;
--@ projection with expressions and aliases
SELECT userid, UCASE(pageid) AS page, viewtime + 1 AS next_time, 'constant' AS c FROM pageviews EMIT CHANGES;
--@ unaliased expressions get KSQL_COL names
SELECT userid, viewtime * 2, LCASE(pageid) FROM pageviews EMIT CHANGES;
--@ where with and or not
SELECT * FROM orders WHERE amount > 10 AND (itemid = 'a' OR NOT itemid = 'b') EMIT CHANGES;
--@ like, in, between, is null
SELECT orderid FROM orders WHERE itemid LIKE 'Item_%' AND customerid IN ('c1', 'c2') AND amount BETWEEN 1 AND 100 AND price IS NOT NULL EMIT CHANGES;
--@ not like and not in
SELECT orderid FROM orders WHERE itemid NOT LIKE '%x%' AND customerid NOT IN ('c3') AND amount NOT BETWEEN 5 AND 6 EMIT CHANGES;
--@ struct dereference
SELECT orderid, address->city, address->zip AS zip FROM orders EMIT CHANGES;
--@ arrays and maps
SELECT orderid, tags[1] AS first_tag, tags[-1] AS last_tag, ARRAY_LENGTH(tags) FROM orders EMIT CHANGES;
SELECT userid, contactinfo['email'] AS email, interests[1] FROM users EMIT CHANGES;
--@ constructors
SELECT orderid, ARRAY[1, 2, 3] AS a, MAP('k' := amount) AS m, STRUCT(city := address->city, amt := amount) AS s FROM orders EMIT CHANGES;
--@ case expressions
SELECT orderid, CASE WHEN amount < 10 THEN 'small' WHEN amount < 100 THEN 'medium' ELSE 'large' END AS size FROM orders EMIT CHANGES;
SELECT orderid, CASE itemid WHEN 'a' THEN 1 WHEN 'b' THEN 2 END AS code FROM orders EMIT CHANGES;
--@ cast
SELECT orderid, CAST(amount AS INT) AS a, CAST(orderid AS STRING) AS s, CAST(price AS DOUBLE) AS p, CAST('12.5' AS DECIMAL(4, 1)) AS d FROM orders EMIT CHANGES;
--@ cast to a custom type
CREATE TYPE money AS DECIMAL(10, 2);
SELECT orderid, CAST(amount AS money) AS m FROM orders EMIT CHANGES;
--@ lambdas transform filter reduce
SELECT orderid, TRANSFORM(tags, t => UCASE(t)) AS up, FILTER(tags, t => LEN(t) > 3) AS long_tags, REDUCE(tags, 0, (s, t) => s + LEN(t)) AS total FROM orders EMIT CHANGES;
--@ lambdas on maps
SELECT userid, TRANSFORM(contactinfo, (k, v) => UCASE(k), (k, v) => LEN(v)) AS m, FILTER(contactinfo, (k, v) => v IS NOT NULL) AS f FROM users EMIT CHANGES;
--@ decimal arithmetic
SELECT orderid, price * 2 AS doubled, price + 1.5 AS plus, price / 3 AS third FROM orders EMIT CHANGES;
--@ pseudo columns
SELECT ROWTIME, ROWPARTITION, ROWOFFSET, userid FROM pageviews EMIT CHANGES;
--@ emit changes limit
SELECT * FROM pageviews EMIT CHANGES LIMIT 5;
--@ partition by a column
SELECT pageid, userid, viewtime FROM pageviews PARTITION BY pageid EMIT CHANGES;
--@ partition by an expression
SELECT UCASE(pageid) AS page, viewtime FROM pageviews PARTITION BY UCASE(pageid) EMIT CHANGES;
--@ csas with partition by
CREATE STREAM pv_by_page AS SELECT pageid, userid, viewtime FROM pageviews PARTITION BY pageid;
--@ partition by null
CREATE STREAM pv_nokey AS SELECT userid, pageid FROM pageviews PARTITION BY NULL;
--@ csas filter and project
CREATE STREAM big_orders WITH (kafka_topic='big-orders', partitions=4) AS SELECT orderid, customerid, amount FROM orders WHERE amount > 1000 EMIT CHANGES;
DESCRIBE big_orders;
--@ csas with format conversion
CREATE STREAM orders_avro WITH (value_format='AVRO') AS SELECT * FROM orders;
--@ csas without the key column
CREATE STREAM nokey AS SELECT customerid, amount FROM orders;
--@ csas selecting the key twice
CREATE STREAM keytwice AS SELECT orderid, orderid AS copy FROM orders;
--@ csas over a table is refused
CREATE STREAM fromtable AS SELECT * FROM users;
--@ ctas over a stream without aggregation is refused
CREATE TABLE fromstream AS SELECT * FROM orders;
--@ ctas copy of a table
CREATE TABLE users_copy AS SELECT * FROM users WHERE regionid = 'Region_1';
--@ csas with limit is refused
CREATE STREAM limited AS SELECT * FROM orders LIMIT 3;
--@ insert into select
CREATE STREAM all_orders AS SELECT * FROM orders;
INSERT INTO all_orders SELECT * FROM orders WHERE amount > 5;
--@ insert into with a different schema
CREATE STREAM all_orders AS SELECT * FROM orders;
INSERT INTO all_orders SELECT orderid, amount FROM orders;
--@ insert into a table
INSERT INTO users SELECT * FROM users;
--@ insert into an unknown stream
INSERT INTO nosuch SELECT * FROM orders;
--@ create or replace query adding a column
CREATE STREAM o2 AS SELECT orderid, amount FROM orders;
CREATE OR REPLACE STREAM o2 AS SELECT orderid, amount, itemid FROM orders WHERE amount > 1;
--@ create or replace query removing a column
CREATE STREAM o3 AS SELECT orderid, amount, itemid FROM orders;
CREATE OR REPLACE STREAM o3 AS SELECT orderid, amount FROM orders;
--@ create or replace query changing sources
CREATE STREAM o4 AS SELECT * FROM pageviews;
CREATE OR REPLACE STREAM o4 AS SELECT * FROM clicks;
--@ create or replace query adding an aggregation
CREATE TABLE o5 AS SELECT customerid, COUNT(*) AS n FROM orders GROUP BY customerid;
CREATE OR REPLACE TABLE o5 AS SELECT customerid, COUNT(*) AS n FROM orders WHERE amount > 0 GROUP BY customerid;
--@ pull query by key
SELECT * FROM users WHERE userid = 'User_1';
--@ pull query beyond ksqlDB
SELECT regionid, gender FROM users WHERE regionid LIKE 'Region_%' ORDER BY regionid DESC LIMIT 10 OFFSET 5;
--@ explode
SELECT orderid, EXPLODE(tags) AS tag FROM orders EMIT CHANGES;
--@ cube explode
SELECT orderid, CUBE_EXPLODE(ARRAY[itemid, customerid]) AS combo FROM orders EMIT CHANGES;
--@ quoted identifiers
SELECT `USERID`, "PAGEID" AS `Page Id` FROM pageviews EMIT CHANGES;
--@ string concatenation
SELECT userid + '-' + pageid AS combined, userid || pageid AS piped FROM pageviews EMIT CHANGES;
--@ comparison of timestamp with string literal
SELECT orderid FROM orders WHERE ordertime > '2024-01-01T00:00:00' EMIT CHANGES;
--@ multi-line statement with comments
SELECT userid, -- the user
       pageid /* the page */
FROM pageviews
WHERE viewtime > 0
EMIT CHANGES;
--@ several statements in one case
SELECT userid FROM pageviews EMIT CHANGES; SELECT itemid FROM orders EMIT CHANGES;
--@ pull query aggregates without group by and explain of a pull query
SELECT COUNT(*) AS n, MAX(registertime) FROM users WHERE regionid <> 'x';
EXPLAIN SELECT regionid, COUNT(*) AS n FROM users GROUP BY regionid ORDER BY n DESC LIMIT 3;
--@ order by and offset are refused in push queries
SELECT * FROM pageviews ORDER BY viewtime EMIT CHANGES;
SELECT * FROM pageviews EMIT CHANGES LIMIT 5 OFFSET 2;
