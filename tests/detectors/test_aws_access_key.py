"""AWS_ACCESS_KEY: real-looking key ids match; documented examples and near misses do not."""
import pytest

KEY = "AKIAZ3MVNQ5RFXKEXT4B"
TEMP_KEY = "ASIAY34FZKBOKMUTVV7A"


@pytest.mark.parametrize("text, expected", [
    (f"aws_access_key_id = {KEY}", [KEY]),
    (f"AWS_ACCESS_KEY_ID={TEMP_KEY}\nAWS_REGION=eu-west-1", [TEMP_KEY]),
    (f'{{"AccessKeyId": "{KEY}"}}', [KEY]),
    (f"two keys: {KEY} and {TEMP_KEY}.", [KEY, TEMP_KEY]),
    # near misses
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", []),     # AWS documentation example
    ("aws_access_key_id = AKIAI44QH8DHBEXAMPLE", []),     # AWS documentation example
    ("key AKIBZ3MVNQ5RFXKEXT4B", []),                     # wrong prefix
    ("key AKIAZ3MVNQ5RFXKEXT4", []),                      # too short
    ("key AKIAZ3MVNQ5RFXKEXT4BQ", []),                    # too long: part of another token
    ("key akiaz3mvnq5rfxkext4b", []),                     # key ids are upper case
    ("key AKIAXXXXXXXXXXXXXXXX", []),                     # a mask
    ("key AKIAZ3MVNQ5RFXKEXT0B", []),                     # 0 is not base32
    ("id 123e4567-e89b-12d3-a456-426614174000", []),      # UUID
    ("commit 9fceb02d0ae598e95dc970b74767f19372d61af8", []),  # git SHA
    ("release v2.14.3-AKIA.1", []),                       # version string
])
def test_aws_access_key(spans, text, expected):
    assert spans(text, "AWS_ACCESS_KEY") == expected


def test_aws_key_is_a_secret_with_reason(engine):
    [finding] = engine.scan(f"key={KEY}")
    assert (finding.entity_type, finding.data_class, finding.reason) == ("AWS_ACCESS_KEY", "secret", "AWS access key")
    assert (finding.start, finding.end) == (4, 24)
    assert finding.score >= 0.9
