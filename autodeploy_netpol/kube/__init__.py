"""Kubernetes and Auto Deploy vocabulary: kinds, the Manifest record, label and annotation keys,
tracks, release naming.

The lowest layer: everything else may import it; it imports nothing of the tool but ``errors``.
"""
