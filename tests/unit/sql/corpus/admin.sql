--@ show streams and tables
SHOW STREAMS;
LIST TABLES;
--@ show streams extended
SHOW STREAMS EXTENDED;
--@ show topics
SHOW TOPICS;
SHOW ALL TOPICS;
--@ show queries after a persistent query
CREATE STREAM pv_copy AS SELECT * FROM pageviews;
SHOW QUERIES;
--@ show properties after SET
SET 'auto.offset.reset' = 'earliest';
SHOW PROPERTIES;
UNSET 'auto.offset.reset';
--@ show functions
SHOW FUNCTIONS;
--@ describe function
DESCRIBE FUNCTION substring;
DESCRIBE FUNCTION latest_by_offset;
DESCRIBE FUNCTION nosuchfunction;
--@ describe source
DESCRIBE orders;
DESCRIBE EXTENDED users;
--@ describe unknown source
DESCRIBE nosuch;
--@ describe streams
DESCRIBE STREAMS;
--@ define and use a variable
DEFINE minimum = '100';
SELECT * FROM orders WHERE amount > ${minimum} EMIT CHANGES;
SHOW VARIABLES;
UNDEFINE minimum;
--@ undefined variable
SELECT * FROM orders WHERE amount > ${nosuch} EMIT CHANGES;
--@ variable as an identifier
DEFINE src = 'orders';
SELECT * FROM ${src} EMIT CHANGES;
--@ terminate a query
CREATE TABLE pv_counts AS SELECT userid, COUNT(*) AS n FROM pageviews GROUP BY userid;
TERMINATE CTAS_PV_COUNTS_0;
SHOW QUERIES;
--@ terminate unknown query
TERMINATE NOSUCH_QUERY;
--@ terminate all
CREATE STREAM a1 AS SELECT * FROM pageviews;
CREATE STREAM a2 AS SELECT * FROM clicks;
TERMINATE ALL;
SHOW QUERIES;
--@ pause and resume
CREATE STREAM p1 AS SELECT * FROM pageviews;
PAUSE CSAS_P1_0;
SHOW QUERIES;
RESUME CSAS_P1_0;
PAUSE ALL;
RESUME ALL;
--@ explain a query id
CREATE STREAM e1 AS SELECT userid, pageid FROM pageviews WHERE pageid LIKE 'Page_1%';
EXPLAIN CSAS_E1_0;
--@ explain a select
EXPLAIN SELECT * FROM orders WHERE amount > 10 EMIT CHANGES;
--@ explain a create as select
EXPLAIN CREATE TABLE cnt AS SELECT customerid, COUNT(*) FROM orders GROUP BY customerid;
--@ explain unknown query id
EXPLAIN NOSUCH;
--@ print
PRINT 'pageviews' FROM BEGINNING LIMIT 2;
PRINT pageviews INTERVAL 3;
--@ select on /ksql is refused
SELECT * FROM orders EMIT CHANGES;
--@ assert topic
ASSERT TOPIC 'pageviews';
ASSERT TOPIC pageviews WITH (partitions=2) TIMEOUT 1 SECONDS;
ASSERT TOPIC 'pageviews' WITH (partitions=5);
ASSERT NOT EXISTS TOPIC 'nosuch';
ASSERT TOPIC 'nosuch';
--@ assert schema needs a registry
ASSERT SCHEMA SUBJECT 'pageviews-value';
--@ run script is a CLI command
RUN SCRIPT '/tmp/x.sql';
--@ show connectors
SHOW CONNECTORS;
--@ insert values
INSERT INTO pageviews (viewtime, userid, pageid) VALUES (1, 'u1', 'p1');
--@ reload functions
RELOAD FUNCTIONS;
