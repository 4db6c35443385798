"""Ids, topic partitions, error codes and the clock: the vocabulary every layer shares."""
