"""autodeploy-netpol: Kubernetes network policies for GitLab Auto DevOps."""

__version__ = "0.1.0"
