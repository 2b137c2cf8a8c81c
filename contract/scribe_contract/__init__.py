"""The contract between the operator and the worker: what one writes and the other reads. Standard library only, so
both images carry it unchanged, and fully typed.

| module | holds |
|---|---|
| :mod:`.taxonomy` | every failure reason, who detects it, its default retryability and the worker's exit code |
| :mod:`.env` | the environment variables the operator sets on an attempt's pod and the worker reads |
| :mod:`.options` | the worker's option choices, defaults and limits (the operator's API validates against them) |
| :mod:`.termination` | the termination message: its type, the worker's serializer and the operator's parser |
| :mod:`.progress` | the pod annotation that carries the worker's progress |
| :mod:`.modelfiles` | the files a model directory must hold |
| :mod:`.redact` | what counts as a credential in a message, and removing it |

Everything here is a wire value: renaming a variable, renumbering an exit code or changing a message key breaks a
running worker image against a newer operator (or the other way round).
"""
