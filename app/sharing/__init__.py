"""Sharing: share links forming a tree, visits, attribution, QR posters and certificates."""
