--@ misspelled statement
SELEC * FROM pageviews;
--@ missing FROM target
SELECT * FROM;
--@ dangling operator
SELECT viewtime + FROM pageviews EMIT CHANGES;
--@ unclosed parenthesis
SELECT (viewtime FROM pageviews EMIT CHANGES;
--@ unterminated string
SELECT 'abc FROM pageviews;
--@ bad emit
SELECT * FROM pageviews EMIT SOMETIMES;
--@ bad time unit
SELECT userid, COUNT(*) FROM pageviews WINDOW TUMBLING (SIZE 1 FORTNIGHT) GROUP BY userid EMIT CHANGES;
--@ bad window kind
SELECT userid, COUNT(*) FROM pageviews WINDOW SLIDING (SIZE 1 MINUTE) GROUP BY userid EMIT CHANGES;
--@ unknown column
SELECT nosuch FROM pageviews EMIT CHANGES;
--@ unknown column on a second line
SELECT userid,
       nosuch
FROM pageviews EMIT CHANGES;
--@ unknown source
SELECT * FROM nosuch EMIT CHANGES;
--@ query on a dropped source
DROP STREAM clicks;
SELECT * FROM clicks EMIT CHANGES;
--@ show what
SHOW STREAM;
--@ create without kind
CREATE foo (a INT) WITH (kafka_topic='x');
--@ create as select with columns
CREATE STREAM x (a INT) AS SELECT * FROM pageviews;
--@ duplicate property
CREATE STREAM dupprop (v STRING) WITH (kafka_topic='existing', kafka_topic='other');
--@ property value not a literal
CREATE STREAM badval (v STRING) WITH (kafka_topic=existing);
--@ insert values with wrong count
INSERT INTO pageviews (viewtime, userid) VALUES (1);
--@ trailing garbage
SHOW STREAMS please;
--@ unknown statement keyword in the middle
SELECT * FROM pageviews WHERE viewtime > 1 FOO BAR EMIT CHANGES;
--@ empty select list
SELECT FROM pageviews EMIT CHANGES;
--@ limit not a number
SELECT * FROM pageviews EMIT CHANGES LIMIT ten;
--@ duplicate output columns
SELECT userid, pageid AS userid FROM pageviews EMIT CHANGES;
--@ set with an unquoted name
SET auto.offset.reset = 'earliest';
--@ terminate without an id
TERMINATE;
--@ drop without a name
DROP STREAM;
--@ print without a topic
PRINT;
--@ insert values with a wrong type
INSERT INTO pageviews (viewtime, userid, pageid) VALUES ('soon', 'u1', 'p1');
--@ insert values into an unknown column
INSERT INTO pageviews (viewtime, nosuch) VALUES (1, 'x');
--@ insert values without the primary key of a table
INSERT INTO users (regionid) VALUES ('r1');
--@ insert values with rowtime and widening
INSERT INTO orders (ROWTIME, orderid, amount, price, ordertime) VALUES (1000, 7, 5, 1.5, '2024-01-02T03:04:05');
