// pause: the sandbox ("infrastructure") container of every pod on the local cluster's node. It holds the pod's
// namespaces open, reaps orphaned children, and exits 0 on SIGINT or SIGTERM. Built static (CGO off) by
// hack/build-binaries.sh and packaged FROM scratch by hack/images.sh.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
