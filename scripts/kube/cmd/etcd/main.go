// etcd for the chart tests' local API server, built from the etcd server module the Kubernetes module already
// depends on (so its version follows Kubernetes').
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
