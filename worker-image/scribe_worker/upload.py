"""Upload rendered documents with their presigned PUT URLs."""

from __future__ import annotations

import httpx
from scribe_contract.taxonomy import Reason

from scribe_worker.errors import WorkerError
from scribe_worker.formats import Document
from scribe_worker.s3http import describe_status, describe_transport_error


def upload(client: httpx.Client, url: str, document: Document, *, label: str, timeout: float) -> None:
    """PUT ``document`` to ``url``; raises WorkerError(UploadFailed) on non-2xx, reset or timeout.

    The message names the format, the s3:// ``label``, the HTTP status and S3's error code.
    """
    try:
        response = client.put(url, content=document.body, headers={"Content-Type": document.content_type})
    except httpx.TransportError as exc:
        raise WorkerError(
            Reason.UPLOAD_FAILED,
            f"upload of {document.format} to {label} failed: {describe_transport_error(exc, timeout)}",
        ) from exc
    except httpx.InvalidURL as exc:
        raise WorkerError(
            Reason.INVALID_CONFIGURATION, f"SCRIBE_OUTPUT_URLS[{document.format!r}] is not a valid URL"
        ) from exc
    if not response.is_success:
        raise WorkerError(
            Reason.UPLOAD_FAILED,
            f"upload of {document.format} to {label} failed: {describe_status(response.status_code, response.content)}",
        )
