"""The pod runner: a kubelet stand-in that runs the pods bound to its node as local processes."""
