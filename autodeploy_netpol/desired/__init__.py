"""Desired: from a values file to the objects the deploy will create — read, validate, suggest,
merge (Helm's semantics), the chart model, the overlay and the real-Helm edge."""
