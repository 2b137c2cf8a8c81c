"""What every kind runs on: the reconcile loop, the Kubernetes client and effects, settings, metrics, leader
election, logs and kopf tuning."""
