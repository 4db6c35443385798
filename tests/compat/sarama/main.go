// sarama-client: the compat tests' driver for IBM/Shopify sarama 1.22 (Debian's
// golang-github-shopify-sarama-dev), built offline in GOPATH mode by tests/compat/sarama_client.py.
//
// One subcommand per run, flags after it, one JSON document on stdout:
//
//	produce  B -topic T -n N [-codec none|gzip|snappy|lz4|zstd] [-idempotent] [-ts MS]
//	         records key-i / value-i / header h=i / timestamp MS+i (MS default: now), one SyncProducer
//	         batch; prints {"offsets":[...]} or {"error":"..."}
//	consume  B -topic T -n N [-offset O] [-committed]
//	         a partition consumer on partition 0; prints {"records":[...]}, keys, values and
//	         header values in hex
//	offset   B -topic T -time MS    ListOffsets (v1) by time; prints {"offset":O}
//	group    B -topic T -group G -n N
//	         a consumer-group member (range assignor) that reads N records, marks and commits them
//	         (OffsetCommit v2: a retention is set, since Kafka 4 removed v1), then leaves
//
// The client speaks Kafka 2.1's protocol versions (config.Version = V2_1_0_0): Produce v3,
// Fetch v4, ListOffsets v1, Metadata v5, JoinGroup v1, OffsetFetch v1, OffsetCommit v2.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

// record: keys, values and header values in hex (null stays null), so the test compares bytes.
type record struct {
	Partition int32        `json:"partition"`
	Offset    int64        `json:"offset"`
	Key       *string      `json:"key"`
	Value     *string      `json:"value"`
	Headers   [][2]*string `json:"headers"`
	Timestamp int64        `json:"timestamp"`
}

func emit(v interface{}) {
	out, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
}

func fail(err error) {
	emit(map[string]string{"error": err.Error()})
	os.Exit(0) // the test reads the error from the JSON
}

func config() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V2_1_0_0
	c.ClientID = "odradek-compat-sarama"
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	// Without a retention sarama sends OffsetCommit v1, which Kafka 4 (and odradek) no longer serve.
	c.Consumer.Offsets.Retention = 24 * time.Hour
	c.Consumer.Group.Rebalance.Timeout = 10 * time.Second
	c.Consumer.Group.Session.Timeout = 10 * time.Second
	c.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	return c
}

var codecs = map[string]sarama.CompressionCodec{
	"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
	"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
}

func hexOf(b []byte) *string {
	if b == nil {
		return nil
	}
	s := hex.EncodeToString(b)
	return &s
}

func toRecord(m *sarama.ConsumerMessage) record {
	headers := [][2]*string{}
	for _, h := range m.Headers {
		headers = append(headers, [2]*string{hexOf(h.Key), hexOf(h.Value)})
	}
	return record{m.Partition, m.Offset, hexOf(m.Key), hexOf(m.Value), headers, m.Timestamp.UnixNano() / 1e6}
}

func produce(brokers []string, args []string) {
	fs := flag.NewFlagSet("produce", flag.ExitOnError)
	topic := fs.String("topic", "", "")
	n := fs.Int("n", 10, "")
	codec := fs.String("codec", "none", "")
	idempotent := fs.Bool("idempotent", false, "")
	ts := fs.Int64("ts", 0, "")
	fs.Parse(args)
	c := config()
	c.Producer.Compression = codecs[*codec]
	c.Producer.Flush.Messages = *n // one batch for the whole run
	c.Producer.Flush.Frequency = time.Second
	if *idempotent {
		c.Producer.Idempotent = true
		c.Net.MaxOpenRequests = 1
		c.Producer.Retry.Max = 5
	}
	producer, err := sarama.NewSyncProducer(brokers, c)
	if err != nil {
		fail(err)
	}
	defer producer.Close()
	base := time.Now()
	if *ts > 0 {
		base = time.Unix(0, *ts*1e6)
	}
	msgs := make([]*sarama.ProducerMessage, *n)
	for i := range msgs {
		msgs[i] = &sarama.ProducerMessage{
			Topic:     *topic,
			Key:       sarama.StringEncoder(fmt.Sprintf("key-%d", i)),
			Value:     sarama.StringEncoder(fmt.Sprintf("value-%d", i)),
			Headers:   []sarama.RecordHeader{{Key: []byte("h"), Value: []byte(fmt.Sprint(i))}},
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
		}
	}
	if err := producer.SendMessages(msgs); err != nil {
		if errs, ok := err.(sarama.ProducerErrors); ok && len(errs) > 0 {
			fail(errs[0].Err)
		}
		fail(err)
	}
	offsets := make([]int64, len(msgs))
	for i, m := range msgs {
		offsets[i] = m.Offset
	}
	emit(map[string][]int64{"offsets": offsets})
}

func consume(brokers []string, args []string) {
	fs := flag.NewFlagSet("consume", flag.ExitOnError)
	topic := fs.String("topic", "", "")
	n := fs.Int("n", 10, "")
	offset := fs.Int64("offset", sarama.OffsetOldest, "")
	committed := fs.Bool("committed", false, "read_committed")
	fs.Parse(args)
	c := config()
	if *committed {
		c.Consumer.IsolationLevel = sarama.ReadCommitted
	}
	consumer, err := sarama.NewConsumer(brokers, c)
	if err != nil {
		fail(err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(*topic, 0, *offset)
	if err != nil {
		fail(err)
	}
	defer pc.Close()
	out := []record{}
	deadline := time.After(20 * time.Second)
	for len(out) < *n {
		select {
		case m := <-pc.Messages():
			out = append(out, toRecord(m))
		case e := <-pc.Errors():
			fail(e.Err)
		case <-deadline:
			emit(map[string]interface{}{"records": out, "error": "timed out"})
			return
		}
	}
	emit(map[string][]record{"records": out})
}

func offset(brokers []string, args []string) {
	fs := flag.NewFlagSet("offset", flag.ExitOnError)
	topic := fs.String("topic", "", "")
	at := fs.Int64("time", sarama.OffsetOldest, "")
	fs.Parse(args)
	client, err := sarama.NewClient(brokers, config())
	if err != nil {
		fail(err)
	}
	defer client.Close()
	got, err := client.GetOffset(*topic, 0, *at)
	if err != nil {
		fail(err)
	}
	emit(map[string]int64{"offset": got})
}

type member struct {
	mu     sync.Mutex
	want   int
	got    []record
	done   chan struct{}
	closed bool
}

func (m *member) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (m *member) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (m *member) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for msg := range claim.Messages() {
		s.MarkMessage(msg, "")
		m.mu.Lock()
		m.got = append(m.got, toRecord(msg))
		if len(m.got) >= m.want && !m.closed {
			m.closed = true
			close(m.done)
		}
		m.mu.Unlock()
	}
	return nil
}

func group(brokers []string, args []string) {
	fs := flag.NewFlagSet("group", flag.ExitOnError)
	topic := fs.String("topic", "", "")
	groupID := fs.String("group", "", "")
	n := fs.Int("n", 10, "")
	fs.Parse(args)
	c := config()
	c.Consumer.Offsets.CommitInterval = 100 * time.Millisecond
	g, err := sarama.NewConsumerGroup(brokers, *groupID, c)
	if err != nil {
		fail(err)
	}
	m := &member{want: *n, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{*topic}, m); err != nil {
				errs <- err
				return
			}
		}
	}()
	select {
	case <-m.done:
	case err := <-errs:
		fail(err)
	case err := <-g.Errors():
		fail(err)
	case <-time.After(30 * time.Second):
		fail(fmt.Errorf("timed out with %d of %d records", len(m.got), *n))
	}
	time.Sleep(500 * time.Millisecond) // one more commit interval
	cancel()
	if err := g.Close(); err != nil { // commits the marked offsets and leaves the group
		fail(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	emit(map[string][]record{"records": m.got})
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: sarama-client BROKERS produce|consume|offset|group [flags]")
		os.Exit(2)
	}
	brokers := strings.Split(os.Args[1], ",")
	switch os.Args[2] {
	case "produce":
		produce(brokers, os.Args[3:])
	case "consume":
		consume(brokers, os.Args[3:])
	case "offset":
		offset(brokers, os.Args[3:])
	case "group":
		group(brokers, os.Args[3:])
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[2])
		os.Exit(2)
	}
}
