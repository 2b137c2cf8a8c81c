"""Reading S3 error bodies into messages."""

from __future__ import annotations

from scribe_worker.s3http import describe_status, s3_error

NO_SUCH_BUCKET = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>
<BucketName>x</BucketName><Resource>/x/k</Resource><RequestId>1</RequestId></Error>"""

SIGNATURE_MISMATCH = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match
 the signature you provided. Check your key &amp; signing method.</Message>
<CanonicalRequest>GET /b/k X-Amz-Credential=AKIAEXAMPLE%2F20250101</CanonicalRequest></Error>"""


def test_s3_error_reads_code_and_message() -> None:
    assert s3_error(NO_SUCH_BUCKET) == ("NoSuchBucket", "The specified bucket does not exist")


def test_only_code_and_message_are_taken() -> None:
    code, message = s3_error(SIGNATURE_MISMATCH)
    assert code == "SignatureDoesNotMatch"
    assert message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key & signing method."
    )
    assert "AKIA" not in describe_status(403, SIGNATURE_MISMATCH)


def test_not_xml() -> None:
    assert s3_error(b"") == ("", "")
    assert s3_error(b"\xff\xfe<html>oops</html>") == ("", "")
    assert describe_status(502, b"<html>Bad gateway</html>") == "HTTP 502 Bad Gateway"
    assert describe_status(404, NO_SUCH_BUCKET) == "HTTP 404 NoSuchBucket (The specified bucket does not exist)"
    assert describe_status(599, b"") == "HTTP 599"
