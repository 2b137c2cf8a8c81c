"""``kubectl scribe``: dead-letter operations on TranscriptionTasks (a kubectl plugin).

Installed as the console script ``kubectl-scribe`` (kubectl finds it on PATH as the plugin ``scribe``); also
``python -m scribe_operator.cli``. Commands: ``dead`` (list the dead-letter queue), ``describe`` (every attempt of a
task), ``retry`` (requeue dead tasks through the ``scribe.dev/requeue`` annotation), ``purge`` (delete dead tasks
older than a given age). See docs/dead-letter.md.

Layout: :mod:`.args` (command line, durations, selectors), :mod:`.cluster` (the Kubernetes API, errors made
readable), :mod:`.tasks` (a task as the plugin reads it), :mod:`.commands` (what each command does),
:mod:`.render` (tables, JSON and YAML; pure).
"""
