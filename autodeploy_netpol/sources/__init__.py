"""Sources: every way input enters the tool — YAML/JSON files and snapshots, the Kubernetes API
(kubeconfig, cluster reader), Helm's release records and recorded flows.

Above ``kube``; below everything that computes. The network edge (``cluster``, ``kubeconfig``)
is imported only by ``runs`` and ``cli``, never by the pure core.
"""
