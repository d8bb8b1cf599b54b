"""The request journal stays bounded, whatever clients send."""

from mock_server.journal import MAX_DISTINCT_VIOLATIONS, OTHER_VIOLATIONS, Journal


def test_entries_and_distinct_violation_texts_are_bounded():
    journal = Journal(size=10)
    for index in range(MAX_DISTINCT_VIOLATIONS + 50):
        journal.record("GET", "/v3/x", "", None, 422, (f"bad value {index}",))
    assert len(journal.entries()) == 10
    assert journal.violation_count == MAX_DISTINCT_VIOLATIONS + 50  # every violation is still counted
    assert f"50 x {OTHER_VIOLATIONS}" in journal.summary()
