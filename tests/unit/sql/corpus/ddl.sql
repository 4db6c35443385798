--@ create stream with key and value columns
CREATE STREAM s1 (id BIGINT KEY, name STRING, amount DOUBLE) WITH (KAFKA_TOPIC='existing', VALUE_FORMAT='JSON');
--@ create stream if not exists twice
CREATE STREAM IF NOT EXISTS s2 (id INT KEY, v STRING) WITH (kafka_topic='existing', value_format='JSON');
CREATE STREAM IF NOT EXISTS s2 (id INT KEY, v STRING) WITH (kafka_topic='existing', value_format='JSON');
--@ create stream twice is an error
CREATE STREAM s3 (v STRING) WITH (kafka_topic='existing', value_format='JSON');
CREATE STREAM s3 (v STRING) WITH (kafka_topic='existing', value_format='JSON');
--@ create table with primary key
CREATE TABLE t1 (id STRING PRIMARY KEY, count BIGINT, tags ARRAY<STRING>) WITH (kafka_topic='existing', value_format='JSON');
--@ create table without a primary key
CREATE TABLE t2 (id STRING, count BIGINT) WITH (kafka_topic='existing', value_format='JSON');
--@ table with KEY instead of PRIMARY KEY
CREATE TABLE t3 (id STRING KEY, count BIGINT) WITH (kafka_topic='existing', value_format='JSON');
--@ stream with PRIMARY KEY
CREATE STREAM s4 (id STRING PRIMARY KEY, count BIGINT) WITH (kafka_topic='existing', value_format='JSON');
--@ all types
CREATE STREAM alltypes (k STRING KEY, b BOOLEAN, i INT, i2 INTEGER, l BIGINT, d DOUBLE, dec DECIMAL(12, 3), s STRING, vc VARCHAR, by BYTES, dt DATE, tm TIME, ts TIMESTAMP, a ARRAY<INT>, m MAP<STRING, DOUBLE>, st STRUCT<f1 INT, `Quoted` STRING, nested STRUCT<x ARRAY<BIGINT>>>) WITH (kafka_topic='existing', value_format='JSON');
DESCRIBE alltypes;
--@ headers columns
CREATE STREAM withheaders (k STRING KEY, v STRING, h ARRAY<STRUCT<key STRING, value BYTES>> HEADERS) WITH (kafka_topic='existing', value_format='JSON');
CREATE STREAM oneheader (k STRING KEY, v STRING, trace BYTES HEADER('trace-id')) WITH (kafka_topic='existing', value_format='JSON');
DESCRIBE oneheader;
--@ header column with the wrong type
CREATE STREAM badheader (v STRING, trace STRING HEADER('trace-id')) WITH (kafka_topic='existing', value_format='JSON');
--@ missing kafka_topic
CREATE STREAM nokafka (v STRING) WITH (value_format='JSON');
--@ topic missing without partitions
CREATE STREAM newtopic (v STRING) WITH (kafka_topic='does-not-exist', value_format='JSON');
--@ topic created with partitions
CREATE STREAM newtopic2 (v STRING) WITH (kafka_topic='new-topic', value_format='JSON', partitions=3, replicas=1);
DESCRIBE newtopic2;
--@ partitions mismatch with existing topic
CREATE STREAM mismatch (v STRING) WITH (kafka_topic='existing', value_format='JSON', partitions=2);
--@ unknown property
CREATE STREAM badprop (v STRING) WITH (kafka_topic='existing', value_format='JSON', colour='blue');
--@ FORMAT with VALUE_FORMAT
CREATE STREAM twoformats (v STRING) WITH (kafka_topic='existing', format='JSON', value_format='AVRO');
--@ unknown format
CREATE STREAM badformat (v STRING) WITH (kafka_topic='existing', value_format='XML');
--@ key format KAFKA with two key columns
CREATE STREAM twokeys (a STRING KEY, b STRING KEY, v STRING) WITH (kafka_topic='existing', value_format='JSON');
--@ two key columns with JSON key format
CREATE STREAM twokeysjson (a STRING KEY, b INT KEY, v STRING) WITH (kafka_topic='existing', value_format='JSON', key_format='JSON');
--@ KAFKA value format with two columns
CREATE STREAM kafkavalue (a STRING, b STRING) WITH (kafka_topic='existing', value_format='KAFKA');
--@ delimited with a struct
CREATE STREAM delim (a STRING, b STRUCT<x INT>) WITH (kafka_topic='existing', value_format='DELIMITED');
--@ protobuf without the schema registry
CREATE TABLE nosr (id BIGINT PRIMARY KEY, name STRING, s STRUCT<a INT, tags ARRAY<STRING>>, m MAP<STRING, DECIMAL(4, 2)>) WITH (kafka_topic='existing', format='PROTOBUF_NOSR');
DESCRIBE nosr;
--@ protobuf without the schema registry and without columns
CREATE STREAM nosrcols WITH (kafka_topic='existing', value_format='PROTOBUF_NOSR');
--@ protobuf without the schema registry cannot unwrap a single value
CREATE STREAM nosrwrap (v STRING) WITH (kafka_topic='existing', value_format='PROTOBUF_NOSR', wrap_single_value=false);
--@ timestamp column
CREATE STREAM withts (id STRING KEY, event_ts BIGINT, v STRING) WITH (kafka_topic='existing', value_format='JSON', timestamp='event_ts');
--@ timestamp column of the wrong type
CREATE STREAM badts (id STRING KEY, event_ts DOUBLE) WITH (kafka_topic='existing', value_format='JSON', timestamp='event_ts');
--@ string timestamp needs a format
CREATE STREAM strts (id STRING KEY, event_ts STRING) WITH (kafka_topic='existing', value_format='JSON', timestamp='event_ts');
CREATE STREAM strts2 (id STRING KEY, event_ts STRING) WITH (kafka_topic='existing', value_format='JSON', timestamp='event_ts', timestamp_format='yyyy-MM-dd HH:mm:ss');
--@ timestamp column that does not exist
CREATE STREAM nots (id STRING KEY) WITH (kafka_topic='existing', value_format='JSON', timestamp='nope');
--@ reserved column name
CREATE STREAM reserved (rowtime BIGINT, v STRING) WITH (kafka_topic='existing', value_format='JSON');
--@ duplicate column
CREATE STREAM dup (v STRING, V INT) WITH (kafka_topic='existing', value_format='JSON');
--@ quoted identifiers keep case
CREATE STREAM `MixedCase` (`id` STRING KEY, `Value` STRING) WITH (kafka_topic='existing', value_format='JSON');
DESCRIBE `MixedCase`;
--@ unknown type
CREATE STREAM unknowntype (v FOO) WITH (kafka_topic='existing', value_format='JSON');
--@ custom types
CREATE TYPE address AS STRUCT<street STRING, city STRING, zip INT>;
CREATE TYPE IF NOT EXISTS address AS STRUCT<street STRING>;
CREATE STREAM people (name STRING KEY, home ADDRESS, previous ARRAY<ADDRESS>) WITH (kafka_topic='existing', value_format='JSON');
SHOW TYPES;
DESCRIBE people;
--@ create type twice
CREATE TYPE money AS DECIMAL(10, 2);
CREATE TYPE money AS DECIMAL(12, 2);
--@ drop type
CREATE TYPE tmp AS STRUCT<a INT>;
DROP TYPE tmp;
DROP TYPE tmp;
DROP TYPE IF EXISTS tmp;
--@ create source table is read only
CREATE SOURCE TABLE ro (id STRING PRIMARY KEY, v STRING) WITH (kafka_topic='existing', value_format='JSON');
INSERT INTO ro (id, v) VALUES ('a', 'b');
--@ no columns for JSON
CREATE STREAM nocols WITH (kafka_topic='existing', value_format='JSON');
--@ schema inference without registry
CREATE STREAM infer WITH (kafka_topic='existing', value_format='AVRO');
--@ drop stream
DROP STREAM pageviews;
SHOW STREAMS;
--@ drop stream if exists
DROP STREAM IF EXISTS nosuchstream;
--@ drop unknown stream
DROP STREAM nosuchstream;
--@ drop table with delete topic
DROP TABLE products DELETE TOPIC;
--@ drop a table with DROP STREAM
DROP STREAM users;
--@ drop source used by a query
CREATE STREAM big_orders AS SELECT * FROM orders WHERE amount > 100;
DROP STREAM orders;
--@ alter stream add columns
ALTER STREAM pageviews ADD COLUMN referrer STRING, ADD COLUMN duration INT;
DESCRIBE pageviews;
--@ alter stream add an existing column
ALTER STREAM pageviews ADD COLUMN pageid STRING;
--@ create or replace stream adding a column
CREATE OR REPLACE STREAM pageviews (viewtime BIGINT, userid VARCHAR KEY, pageid VARCHAR, referrer VARCHAR) WITH (kafka_topic='pageviews', value_format='JSON');
--@ create or replace stream changing a type is refused
CREATE OR REPLACE STREAM pageviews (viewtime STRING, userid VARCHAR KEY, pageid VARCHAR) WITH (kafka_topic='pageviews', value_format='JSON');
--@ create or replace stream removing a column is refused
CREATE OR REPLACE STREAM pageviews (userid VARCHAR KEY, pageid VARCHAR) WITH (kafka_topic='pageviews', value_format='JSON');
--@ windowed source
CREATE TABLE windowed_counts (userid STRING PRIMARY KEY, c BIGINT) WITH (kafka_topic='existing', value_format='JSON', window_type='TUMBLING', window_size='1 MINUTE');
DESCRIBE windowed_counts;
--@ wrap single value
CREATE STREAM single (v STRING) WITH (kafka_topic='existing', value_format='JSON', wrap_single_value=false);
--@ wrap single value with two columns
CREATE STREAM single2 (v STRING, w STRING) WITH (kafka_topic='existing', value_format='JSON', wrap_single_value=false);
