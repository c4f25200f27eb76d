"""The pure-Python reference of the cycle arithmetic used by the differential tests. It lives in
the package (`mmfast.reference`) because `mmfast bench` times it as the cycle's baseline; this
package re-exports it so tests read `from reference import ladder, reconcile, cycle`."""

from mmfast.reference import cycle, ladder, reconcile

__all__ = ["cycle", "ladder", "reconcile"]
