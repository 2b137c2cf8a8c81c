"""The kernel every kind's decision core is built on: pure pieces written once.

* :mod:`.clock`: the times written to status (whole seconds), RFC 3339 text, the delay until a wake-up;
* :mod:`.clip`: messages and lists cut to what the API objects keep;
* :mod:`.decision`: what every decision core does before it decides (aware time, default settings, the empty plan
  of an object being deleted);
* :mod:`.conditions`: standard conditions upserted into a status, lastTransitionTime kept while unchanged;
* :mod:`.events`: the Kubernetes events a plan records;
* :mod:`.draft`: one reconcile pass's working state (the status being changed, actions, events, wake-ups);
* :mod:`.notify`: the completion notification's delivery, decided purely, and its CloudEvent;
* :mod:`.raw`: reading the loosely typed dicts the API server sends;
* :mod:`.replan`: ask and replan, the loop in which a controller answers what a core asked and the core decides
  again.

Nothing here does I/O, reads a clock, imports kopf or knows a kind: a kind's core imports the kernel, never the other
way round.
"""
