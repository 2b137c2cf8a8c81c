"""Download the input with its presigned GET URL, streaming it to a local file."""

from __future__ import annotations

from pathlib import Path

import httpx
from scribe_contract.taxonomy import Reason

from scribe_worker.errors import WorkerError
from scribe_worker.s3http import MAX_ERROR_BODY, describe_status, describe_transport_error

CHUNK_SIZE = 1024 * 1024


def _read_error_body(response: httpx.Response) -> bytes:
    body = b""
    try:
        for chunk in response.iter_raw():
            body += chunk
            if len(body) >= MAX_ERROR_BODY:
                break
    except httpx.TransportError:
        pass  # the status alone classifies the failure
    return body


def _status_error(status: int, body: bytes, label: str, noun: str) -> WorkerError:
    detail = describe_status(status, body)
    if status == 404:
        return WorkerError(Reason.INPUT_NOT_FOUND, f"{noun} {label} not found: {detail}")
    if status == 403:
        return WorkerError(Reason.INPUT_FORBIDDEN, f"download of {label} refused: {detail}")
    return WorkerError(Reason.DOWNLOAD_FAILED, f"download of {label} failed: {detail}")


def download(
    client: httpx.Client,
    url: str,
    dest: Path,
    *,
    label: str,
    timeout: float,
    noun: str = "input",
    url_variable: str = "SCRIBE_INPUT_URL",
) -> int:
    """Stream ``url`` into ``dest``; returns the number of bytes written.

    Raises WorkerError: InputNotFound (404), InputForbidden (403), DownloadFailed (other non-2xx,
    connection errors, timeouts, a short body, a local write error), InvalidAudio (empty body).
    ``label`` (the s3:// URI) names the object in messages, with ``noun`` ("input", "model file"); the URL
    never appears in them (``url_variable`` names where it came from).
    """
    written = 0
    try:
        with client.stream("GET", url) as response:
            if not response.is_success:
                raise _status_error(response.status_code, _read_error_body(response), label, noun)
            expected = response.headers.get("Content-Length")
            with dest.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    out.write(chunk)
                    written += len(chunk)
            received = response.num_bytes_downloaded
            if expected is not None and expected.isdigit() and received != int(expected):
                raise WorkerError(
                    Reason.DOWNLOAD_FAILED,
                    f"download of {label} was cut short: {received} of {expected} bytes",
                )
    except httpx.TransportError as exc:
        raise WorkerError(
            Reason.DOWNLOAD_FAILED,
            f"download of {label} failed{f' after {written} bytes' if written else ''}: "
            f"{describe_transport_error(exc, timeout)}",
        ) from exc
    except httpx.InvalidURL as exc:
        raise WorkerError(Reason.INVALID_CONFIGURATION, f"{url_variable} is not a valid URL") from exc
    except OSError as exc:
        raise WorkerError(
            Reason.DOWNLOAD_FAILED,
            f"cannot write {label} to local disk after {written} bytes: {exc.strerror or exc}",
        ) from exc
    if written == 0:
        raise WorkerError(Reason.INVALID_AUDIO, f"{noun} {label} is empty (0 bytes)")
    return written
