"""scribe-worker: download audio from a presigned URL, transcribe it, upload the results."""
