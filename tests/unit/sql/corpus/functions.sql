--@ string functions
SELECT userid, LEN(pageid), SUBSTRING(pageid, 2, 3), INSTR(pageid, 'e'), CONCAT(userid, '-', pageid), CONCAT_WS('/', userid, pageid), REPLACE(pageid, 'Page', 'P'), LPAD(pageid, 10, '*'), RPAD(pageid, 10, '*'), TRIM(pageid), INITCAP(pageid), SPLIT(pageid, '_') FROM pageviews EMIT CHANGES;
--@ masking and regex functions
SELECT userid, MASK(pageid), MASK_LEFT(pageid, 2), MASK_RIGHT(pageid, 2, 'X', 'x', 'n', '-'), MASK_KEEP_LEFT(pageid, 1), MASK_KEEP_RIGHT(pageid, 1), REGEXP_EXTRACT('P(\\d+)', pageid), REGEXP_REPLACE(pageid, '[0-9]', '#'), REGEXP_SPLIT_TO_ARRAY(pageid, '_') FROM pageviews EMIT CHANGES;
--@ numeric functions
SELECT orderid, ABS(amount), CEIL(amount), FLOOR(amount), ROUND(amount), ROUND(amount, 2), ROUND(price, 1), SIGN(amount), SQRT(amount), EXP(1.0), LN(amount), POWER(amount, 2), TRUNC(amount), GREATEST(amount, 1.0, 2.0), LEAST(1, 2, 3), RANDOM() FROM orders EMIT CHANGES;
--@ collection functions
SELECT orderid, ARRAY_CONTAINS(tags, 'a'), ARRAY_DISTINCT(tags), ARRAY_EXCEPT(tags, ARRAY['x']), ARRAY_INTERSECT(tags, ARRAY['a']), ARRAY_UNION(tags, ARRAY['z']), ARRAY_JOIN(tags, '|'), ARRAY_MAX(tags), ARRAY_MIN(tags), ARRAY_REMOVE(tags, 'a'), ARRAY_SORT(tags, 'DESC'), SLICE(tags, 1, 2), GENERATE_SERIES(1, 5) FROM orders EMIT CHANGES;
--@ map functions
SELECT userid, MAP_KEYS(contactinfo), MAP_VALUES(contactinfo), MAP_UNION(contactinfo, MAP('x' := 'y')), AS_MAP(ARRAY['a', 'b'], ARRAY[1, 2]), ENTRIES(contactinfo, true) FROM users EMIT CHANGES;
--@ null functions
SELECT orderid, COALESCE(itemid, customerid, 'none'), IFNULL(itemid, 'none'), NULLIF(itemid, 'x') FROM orders EMIT CHANGES;
--@ date and time functions
SELECT orderid, UNIX_TIMESTAMP(), UNIX_TIMESTAMP(ordertime), FORMAT_TIMESTAMP(ordertime, 'yyyy-MM-dd HH:mm:ss', 'UTC'), PARSE_TIMESTAMP('2021-01-01 10:00:00', 'yyyy-MM-dd HH:mm:ss'), FROM_UNIXTIME(0), TIMESTAMPADD(SECONDS, 5, ordertime), TIMESTAMPSUB(HOURS, 1, ordertime), CONVERT_TZ(ordertime, 'UTC', 'Europe/Paris'), FORMAT_DATE(FROM_DAYS(1), 'yyyy-MM-dd'), PARSE_DATE('2021-02-03', 'yyyy-MM-dd') FROM orders EMIT CHANGES;
--@ legacy time functions
SELECT userid, TIMESTAMPTOSTRING(viewtime, 'yyyy-MM-dd'), STRINGTOTIMESTAMP('2020-01-01', 'yyyy-MM-dd'), DATETOSTRING(18000, 'yyyy-MM-dd'), STRINGTODATE('2020-01-01', 'yyyy-MM-dd') FROM pageviews EMIT CHANGES;
--@ json and url functions
SELECT userid, EXTRACTJSONFIELD('{"a": {"b": 1}}', '$.a.b'), IS_JSON_STRING(pageid), JSON_ARRAY_LENGTH('[1,2]'), JSON_KEYS('{"a":1}'), TO_JSON_STRING(STRUCT(a := 1)), URL_EXTRACT_HOST('http://x.org/p'), URL_EXTRACT_PARAMETER('http://x.org/p?q=1', 'q'), URL_ENCODE_PARAM(pageid) FROM pageviews EMIT CHANGES;
--@ bytes functions
SELECT userid, TO_BYTES(pageid, 'utf8'), FROM_BYTES(TO_BYTES(pageid, 'utf8'), 'hex'), ENCODE(pageid, 'utf8', 'base64'), INT_FROM_BYTES(TO_BYTES('AAAAAQ==', 'base64')) FROM pageviews EMIT CHANGES;
--@ unknown function
SELECT NOSUCHFUNCTION(userid) FROM pageviews EMIT CHANGES;
--@ wrong argument types
SELECT UCASE(viewtime) FROM pageviews EMIT CHANGES;
--@ wrong number of arguments
SELECT SUBSTRING(pageid) FROM pageviews EMIT CHANGES;
--@ lambda with the wrong arity
SELECT TRANSFORM(tags, (a, b) => a) FROM orders EMIT CHANGES;
--@ lambda outside a function
SELECT x => x + 1 FROM orders EMIT CHANGES;
--@ table function nested in an expression
SELECT UCASE(EXPLODE(tags)) FROM orders EMIT CHANGES;
--@ table function with an aggregate
SELECT customerid, EXPLODE(tags), COUNT(*) FROM orders GROUP BY customerid EMIT CHANGES;
--@ arithmetic type error
SELECT pageid + viewtime FROM pageviews EMIT CHANGES;
--@ comparison type error
SELECT * FROM pageviews WHERE pageid > 5 EMIT CHANGES;
--@ where is not boolean
SELECT * FROM pageviews WHERE viewtime EMIT CHANGES;
--@ bad cast
SELECT CAST(tags AS INT) FROM orders EMIT CHANGES;
--@ dereference of a non-struct
SELECT pageid->x FROM pageviews EMIT CHANGES;
--@ unknown struct field
SELECT address->country FROM orders EMIT CHANGES;
--@ subscript on a string
SELECT pageid[1] FROM pageviews EMIT CHANGES;
--@ null without a type
SELECT userid, NULL AS n FROM pageviews EMIT CHANGES;
--@ case branches of different types
SELECT CASE WHEN viewtime > 1 THEN 'a' ELSE 1 END FROM pageviews EMIT CHANGES;
