"""The request journal stays bounded, whatever clients send."""

from mock_server.journal import MAX_BODY_BYTES, MAX_DISTINCT_VIOLATIONS, OTHER_VIOLATIONS, Journal


def test_entries_and_distinct_violation_texts_are_bounded():
    journal = Journal(size=10)
    for index in range(MAX_DISTINCT_VIOLATIONS + 50):
        journal.record("GET", "/v3/x", "", None, 422, (f"bad value {index}",))
    assert len(journal.entries()) == 10
    assert journal.violation_count == MAX_DISTINCT_VIOLATIONS + 50  # every violation is still counted
    assert f"50 x {OTHER_VIOLATIONS}" in journal.summary()


def test_write_bodies_are_kept_bounded_and_reads_keep_none():
    journal = Journal(size=10)
    journal.record("GET", "/v3/loyalty/config/programs", "", "getLPList", 200)
    journal.record("POST", "/v3/x", "", "beginTransaction", 422, ("body.amount: expected a number",),
                   body=b'{"amount": "12"}')
    journal.record("POST", "/v3/x", "", "beginTransaction", 413, body=b'{"s": "' + "é".encode() * 5000 + b'"}')
    read, write, huge = journal.entries()
    assert read.body is None and read.as_dict()["body"] is None
    assert write.as_dict()["body"] == '{"amount": "12"}' and write.status == 422
    assert huge.body.endswith(f"… (10009 bytes, the first {MAX_BODY_BYTES} kept)")
    assert len(huge.body.split("…")[0].encode()) <= MAX_BODY_BYTES
