"""The pure decision core of TranscriptionTask: ``reconcile(task, observed, now, settings) -> Plan``
(:mod:`.reconcile`). No I/O, no clock reads.

What it is handed is in :mod:`.observed`, what it returns in :mod:`.plan`; one pass's steps in :mod:`.starting`,
:mod:`.watching` and :mod:`.endings` over the working state of :mod:`.draft`; the policies they apply in their own
modules (:mod:`.classify`, :mod:`.backoff`, :mod:`.deadline`, :mod:`.memory`, :mod:`.capacity`, :mod:`.breaker`,
:mod:`.requeue`, :mod:`.cache`, :mod:`.usage`, :mod:`.notify`, :mod:`.conditions`).
"""
