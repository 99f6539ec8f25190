//go:build tools

// The Kubernetes control plane the chart tests install the chart on (scripts/kube-cluster.sh), built from
// k8s.io/kubernetes with its staging modules pinned to the same release. kwok, which fakes the nodes and the
// pods' status, is built on its own (scripts/lib.sh).
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
