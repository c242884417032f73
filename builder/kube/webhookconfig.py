"""The API calls of the admission webhook's TLS: its Secret and its caBundle.

The controller keeps the serving certificate of its mutating admission
webhook (``builder.controller.admissioncert``) in one Secret of its own
namespace and the CA that signed it in the ``caBundle`` of one
MutatingWebhookConfiguration, named in its flags.  deploy/rbac.yaml grants
exactly that: the Secret by name in the controller's namespace, and
``get``/``patch`` on that one MutatingWebhookConfiguration by name.
"""

from __future__ import annotations

from typing import Any

from builder.kube.client import Kube


class WebhookTLSStore:
    """Reads and writes the serving certificate's Secret and the webhook's caBundle."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def get_secret(self, namespace: str, name: str) -> dict[str, Any]:
        return self.kube.get_secret(namespace, name)

    def create_secret(self, namespace: str, secret: dict[str, Any]) -> dict[str, Any]:
        return self.kube.create_secret(namespace, secret)

    def replace_secret(self, namespace: str, name: str, secret: dict[str, Any]) -> dict[str, Any]:
        """Replace; Conflict when its ``metadata.resourceVersion`` is no longer current."""
        return self.kube.replace_secret(namespace, name, secret)

    def get_webhook_config(self, name: str) -> dict[str, Any]:
        return self.kube.get_webhook_config(name)

    def set_ca_bundle(self, name: str, resource_version: str, bundle_b64: str, count: int) -> None:
        """Set every webhook's ``clientConfig.caBundle``; Conflict if the object moved.

        A JSON patch whose ``test`` of the resourceVersion makes it a
        compare-and-swap: a webhook added or reordered meanwhile is not missed.
        """
        patch: list[dict[str, Any]] = [
            {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}
        ]
        patch += [
            {"op": "add", "path": f"/webhooks/{i}/clientConfig/caBundle", "value": bundle_b64}
            for i in range(count)
        ]
        self.kube.patch_webhook_config(name, patch)


__all__ = ["WebhookTLSStore"]
