"""Regular expressions the Kubernetes API validates names and label values with, shared by every kind's schema."""

from typing import Final

DNS1123_SUBDOMAIN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_LABEL_NAME: Final = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LABEL_VALUE_PATTERN: Final = rf"^({_LABEL_NAME})?$"
"""A label value as the Pod API validates it (nodeSelector values, toleration values): empty, or up to 63
alphanumerics, '-', '_', '.', beginning and ending alphanumeric."""
_DNS_PREFIX: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/"
TOLERATION_KEY_PATTERN: Final = rf"^(({_DNS_PREFIX})?{_LABEL_NAME})?$"
"""A toleration key: empty, or a label key (an optional DNS-subdomain prefix and ``/``, then a name of up to 63
characters)."""
