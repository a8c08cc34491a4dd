"""Disclosure control for published aggregate tables: primary and complementary suppression, and an
independent audit that a gate runs before anything is published (docs/domain.md, privacy rules)."""

from lakehouse.privacy.audit import DisclosureError, assert_safe, audit
from lakehouse.privacy.cells import DEFAULT_THRESHOLD, MartError, Relation
from lakehouse.privacy.suppression import linked_size, suppress

__all__ = [
    "DEFAULT_THRESHOLD",
    "DisclosureError",
    "MartError",
    "Relation",
    "assert_safe",
    "audit",
    "linked_size",
    "suppress",
]
