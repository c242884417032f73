"""The image-lookup admission webhook: its HTTP handler and its TLS port.

Every replica serves it (not only the leader): the API server calls the
Service ``kbuild-admission`` (deploy/admission.yaml), which reaches any
ready replica, and an answer needs only reads (a stream, a
SubjectAccessReview).  Streams come from the leader's informer cache once it
has synced, from the API server otherwise.

``failurePolicy: Ignore``: when no replica answers (scaled to 0, crashed,
TLS broken, slower than ``timeoutSeconds``) the API server admits the
object with its images as written.  The trade-off is deliberate: with
``Fail``, a controller outage would stop every Pod, Deployment and Job of
the cluster from being created (the controller's own pods included, were
its namespace not excluded), which is far worse than an image that is not
resolved.  What was let through is not silent: ``admissionsweep`` records
a Warning event ``ImageLookupSkipped`` on each such pod once the
controller runs again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from builder.api import ImageStream, ManifestError
from builder.controller.admission import (
    ImageLookupError,
    ReviewError,
    parse_review,
    plan,
    response,
)
from builder.controller.admissioncert import CertificateKeeper
from builder.controller.authz import Authorizer, Identity
from builder.controller.metrics import serve
from builder.kube import KubeError, NotFound

log = logging.getLogger(__name__)

PATH = "/admission/image-lookup"
"""The path the MutatingWebhookConfiguration calls (``clientConfig.service.path``)."""

StreamReader = Callable[[str, str], ImageStream]


class ImageLookupWebhook:
    """Answers AdmissionReviews: each resolvable container image, patched."""

    def __init__(self, read_stream: StreamReader, authorizer: Authorizer) -> None:
        self._read_stream = read_stream
        self._authorizer = authorizer

    def stream(self, namespace: str, name: str) -> ImageStream | None:
        try:
            return self._read_stream(namespace, name)
        except NotFound:
            return None
        except ManifestError:
            return None  # invalid streams are reported by the manager, not used
        except KubeError as err:
            raise ImageLookupError(f"reading image stream {namespace}/{name}: {err}") from None

    def may_read(self, namespace: str, account: str, stream_namespace: str) -> bool:
        try:
            return self._authorizer.allowed(Identity(namespace, account), "get", stream_namespace)
        except KubeError as err:
            raise ImageLookupError(f"asking a SubjectAccessReview: {err}") from None

    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        del headers
        if path != PATH:
            return 404, b"not found\n"
        try:
            review = parse_review(body)
        except ReviewError as err:
            return 400, f"{err}\n".encode()
        try:
            result = plan(review.obj, review.kind, review.namespace, self.stream, self.may_read)
        except Exception as err:  # a bug must admit the object, as the API server would
            log.exception("image lookup of a %s in %s failed", review.kind, review.namespace)
            return 200, response(review.uid, warnings=[f"image lookup failed: {err}"])
        for resolution in result.resolutions:
            log.info(
                "image lookup: %s in %s: container %s image %s -> %s",
                review.kind, review.namespace, resolution.container,
                resolution.image, resolution.resolved,
            )  # fmt: skip
        return 200, response(review.uid, result)


def start(
    keeper: CertificateKeeper,
    webhook: ImageLookupWebhook,
    port: int,
    stop: threading.Event,
) -> threading.Thread:
    """Keep the certificate in a thread; serve ``port`` over TLS once one is loaded."""

    def ready() -> None:
        serve(
            None, port, lambda: True, lambda: True, {PATH: webhook.handle},
            name="admission", tls=keeper.context,
        )  # fmt: skip
        log.info("image-lookup admission webhook serving TLS on port %d", port)

    thread = threading.Thread(
        target=keeper.run, args=(stop, ready), name="admission-cert", daemon=True
    )
    thread.start()
    return thread


__all__ = ["PATH", "ImageLookupWebhook", "start"]
