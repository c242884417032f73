"""``template.openshift.io/v1`` Template: objects with ``${PARAM}`` holes and their parameters.

The fields are openshift/api ``template/v1`` ``Template`` and ``Parameter``.
A Template is stored as a CRD so that ``kubectl apply`` of one works and
``kbuild process NAME`` / ``kbuild new-app --template NAME`` find it in the
namespace or in ``openshift``; nothing in the cluster acts on it (OpenShift's
TemplateInstance controller is not part of kbuild).  Processing is
``builder.api.templateprocessing``.

``objects`` are kept exactly as given (any kind, unexpanded parameters in any
field, ``${{INT}}`` where a number belongs): in the CRD they are
``x-kubernetes-preserve-unknown-fields`` so the API server neither prunes nor
type-checks them, as OpenShift keeps them as raw JSON.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, StrictBool, StrictStr

from builder.api.base import AlwaysDump, FreeFormObject, KubeModel
from builder.api.core import ObjectMeta

TEMPLATE_GROUP = "template.openshift.io"
TEMPLATE_API_VERSION: Final = "template.openshift.io/v1"
PLURAL_TEMPLATES = "templates"
EXPRESSION_GENERATOR = "expression"
"""The only ``generate`` value OpenShift has: a value from the ``from`` expression."""


class Parameter(KubeModel):
    """A value the objects refer to as ``${NAME}`` (string) or ``${{NAME}}`` (JSON value)."""

    name: StrictStr
    """Name used in the objects; letters, digits and ``_``."""
    display_name: StrictStr = ""
    """Name shown to people."""
    description: StrictStr = ""
    """What the value is for."""
    value: StrictStr = ""
    """Default value; a value given when processing wins."""
    generate: StrictStr = ""
    """``expression``: generate the value from ``from`` when none is given."""
    from_: StrictStr = ""
    """Generator input, e.g. ``[a-zA-Z0-9]{16}``."""
    required: StrictBool = False
    """Processing fails when the value is still empty."""


class Template(KubeModel):
    """Objects to create together, with parameters substituted into them."""

    api_version: Annotated[Literal["template.openshift.io/v1"], AlwaysDump()] = TEMPLATE_API_VERSION
    """API version."""
    kind: Annotated[Literal["Template"], AlwaysDump()] = "Template"
    """Kind."""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    message: StrictStr = ""
    """Shown after processing; may refer to parameters."""
    objects: list[FreeFormObject] = Field(default_factory=list)
    """The objects, kept as given (any kind, parameters unexpanded)."""
    parameters: list[Parameter] = Field(default_factory=list)
    """The parameters the objects refer to."""
    labels: dict[str, StrictStr] = Field(default_factory=dict)
    """Labels added to every object when processed (OpenShift's objectLabels)."""
