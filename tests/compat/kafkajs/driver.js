// kafkajs driver for odradek's compat tests (tests/compat/test_kafkajs.py).
//
//   node driver.js BROKER COMMAND JSON-ARGS      -> one JSON document on stdout
//
// produce  {topic, n, codec, ts, idempotent}  one send() of n records (key-i, value-i, header h=i,
//          timestamp ts+i): {"offsets": [...]}
// txn      {topic, id, values, commit}          one transaction of `values`, committed or aborted
// consume  {topic, n, group, committed}         a group member from the beginning, n records, keys,
//          values and header values in hex: {"records": [...]}; commits what it read
// offsets  {topic, ts}                          admin.fetchTopicOffsetsByTimestamp: {"offset": O}
// committed {topic, group}                      admin.fetchOffsets: {"offset": O}
//
// kafkajs ships gzip only; its codec interface takes the others. Here: kafkajs-snappy (the
// plugin kafkajs documents, pure JS), and lz4 and zstd through pure-JS/wasm libraries (lz4js, the
// LZ4 frame format; zstd-codec, emscripten-built zstd), since the documented plugins for those
// build native code at install time.
'use strict'

const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const lz4 = require('lz4js')
const { ZstdCodec } = require('zstd-codec')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  async compress (encoder) { return Buffer.from(lz4.compress(encoder.buffer)) },
  async decompress (buffer) { return Buffer.from(lz4.decompress(buffer)) }
})
// Streaming, not Simple: librdkafka's zstd frames do not record their content size.
const zstd = new Promise(resolve => ZstdCodec.run(z => resolve(new z.Streaming())))
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  async compress (encoder) { return Buffer.from((await zstd).compress(encoder.buffer)) },
  async decompress (buffer) { return Buffer.from((await zstd).decompress(buffer)) }
})

const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD
}

const [broker, command, rawArgs] = process.argv.slice(2)
const args = JSON.parse(rawArgs || '{}')
const kafka = new Kafka({
  clientId: 'odradek-compat-kafkajs',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  retry: { retries: 3, initialRetryTime: 100 }
})
const hex = b => (b === null || b === undefined ? null : Buffer.from(b).toString('hex'))

async function produce () {
  const producer = kafka.producer({ idempotent: !!args.idempotent, maxInFlightRequests: args.idempotent ? 1 : undefined })
  await producer.connect()
  const ts = args.ts || Date.now()
  const messages = Array.from({ length: args.n }, (_, i) => ({
    partition: 0,
    key: `key-${i}`,
    value: `value-${i}`,
    headers: { h: String(i) },
    timestamp: String(ts + i)
  }))
  try {
    const [meta] = await producer.send({ topic: args.topic, messages, compression: CODECS[args.codec || 'none'], acks: -1 })
    const base = Number(meta.baseOffset)
    return { offsets: messages.map((_, i) => base + i) }
  } finally {
    await producer.disconnect()
  }
}

async function txn () {
  const producer = kafka.producer({ transactionalId: args.id, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    const t = await producer.transaction()
    await t.send({ topic: args.topic, messages: args.values.map(v => ({ partition: 0, value: v })) })
    if (args.commit) await t.commit()
    else await t.abort()
    return { ok: true }
  } finally {
    await producer.disconnect()
  }
}

async function consume () {
  const consumer = kafka.consumer({
    groupId: args.group,
    readUncommitted: !args.committed,
    sessionTimeout: 10000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [args.topic], fromBeginning: true })
  const records = []
  let finish
  const done = new Promise(resolve => { finish = resolve })
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (records.length >= args.n) return
      const headers = []
      for (const [k, v] of Object.entries(message.headers || {})) {
        for (const one of Array.isArray(v) ? v : [v]) headers.push([hex(Buffer.from(k)), hex(one)])
      }
      records.push({
        partition,
        offset: Number(message.offset),
        key: hex(message.key),
        value: hex(message.value),
        headers,
        timestamp: Number(message.timestamp)
      })
      if (records.length === args.n) {
        await consumer.commitOffsets([{ topic: args.topic, partition, offset: String(Number(message.offset) + 1) }])
        finish()
      }
    }
  })
  const timer = setTimeout(finish, 30000)
  await done
  clearTimeout(timer)
  await consumer.disconnect()
  return records.length === args.n ? { records } : { records, error: 'timed out' }
}

async function offsets () {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const [found] = await admin.fetchTopicOffsetsByTimestamp(args.topic, args.ts)
    return { offset: Number(found.offset) }
  } finally {
    await admin.disconnect()
  }
}

async function committed () {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const [topic] = await admin.fetchOffsets({ groupId: args.group, topics: [args.topic] })
    return { offset: Number(topic.partitions[0].offset) }
  } finally {
    await admin.disconnect()
  }
}

const COMMANDS = { produce, txn, consume, offsets, committed }

COMMANDS[command]()
  .then(out => { console.log(JSON.stringify(out)) })
  .catch(err => { console.log(JSON.stringify({ error: `${err.name}: ${err.message}`, type: err.type || null })) })
  .finally(() => process.exit(0))
