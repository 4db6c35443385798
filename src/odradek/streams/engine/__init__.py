"""The processing engine shared by the test driver and the Kafka runtime: tasks, contexts, punctuation."""
