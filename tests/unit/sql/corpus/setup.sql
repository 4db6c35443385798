-- The sources every corpus case starts with (ksqlDB's tutorial shapes).
CREATE STREAM pageviews (viewtime BIGINT, userid VARCHAR KEY, pageid VARCHAR) WITH (kafka_topic='pageviews', value_format='JSON');
CREATE TABLE users (userid VARCHAR PRIMARY KEY, registertime BIGINT, gender VARCHAR, regionid VARCHAR, interests ARRAY<STRING>, contactinfo MAP<STRING, STRING>) WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM orders (orderid INT KEY, customerid VARCHAR, itemid VARCHAR, amount DOUBLE, price DECIMAL(10, 2), address STRUCT<street VARCHAR, city VARCHAR, zip INT>, tags ARRAY<VARCHAR>, ordertime TIMESTAMP) WITH (kafka_topic='orders', value_format='JSON', timestamp='ordertime');
CREATE STREAM payments (paymentid INT KEY, orderid INT, amount DOUBLE) WITH (kafka_topic='payments', value_format='JSON');
CREATE STREAM shipments (shipmentid INT KEY, orderid INT, warehouse VARCHAR) WITH (kafka_topic='shipments', value_format='JSON');
CREATE TABLE products (productid VARCHAR PRIMARY KEY, name VARCHAR, categoryid VARCHAR, price DOUBLE) WITH (kafka_topic='products', value_format='JSON');
CREATE TABLE customers (customerid VARCHAR PRIMARY KEY, name VARCHAR, country VARCHAR) WITH (kafka_topic='customers', value_format='JSON');
CREATE STREAM clicks (ip VARCHAR KEY, url VARCHAR, status INT, bytes BIGINT, agent VARCHAR, ts BIGINT) WITH (kafka_topic='clicks', value_format='JSON', timestamp='ts');
CREATE STREAM readings (sensor VARCHAR KEY, reading DOUBLE, location VARCHAR, area VARCHAR) WITH (kafka_topic='readings', value_format='JSON');
CREATE TABLE threes (id INT PRIMARY KEY, v VARCHAR) WITH (kafka_topic='three', value_format='JSON');
