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


def test_one_organisations_view_and_clear_leave_the_others_entries():
    journal = Journal(size=10)
    for organisation, path in (("key-a", "/a1"), ("key-b", "/b1"), (None, "/nokey"), ("key-a", "/a2")):
        journal.record("GET", path, "", None, 200, organisation=organisation)
    assert [entry.path for entry in journal.entries("key-a")] == ["/a1", "/a2"]
    journal.clear("key-a")
    assert journal.entries("key-a") == []
    assert [entry.path for entry in journal.entries("key-b")] == ["/b1"]
    assert [entry.path for entry in journal.entries()] == ["/a1", "/b1", "/nokey", "/a2"]  # everyone's view
    journal.record("GET", "/a3", "", None, 200, organisation="key-a")
    assert [entry.path for entry in journal.entries("key-a")] == ["/a3"]
    journal.clear()
    assert journal.entries() == [] and journal.entries("key-b") == []
