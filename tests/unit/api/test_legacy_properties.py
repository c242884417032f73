"""Property: whatever a manifest holds, legacy conversion gives a result or a ManifestError."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api.legacy import convert, flatten, tag_request
from builder.api.manifest import ManifestError

KINDS = ["BuildConfig", "Build", "ImageStream", "ImageStreamTag", "DeploymentConfig", "List",
         "Template", "ImageStreamMapping", "Service", "", 3, None]  # fmt: skip
KEYS = ["apiVersion", "kind", "metadata", "spec", "status", "tag", "items", "name", "type",
        "triggers", "strategy", "source", "from", "output", "to", "tags", "imageChange",
        "sourceStrategy", "dockerStrategy", "binary", "git", "uid", "lookupPolicy",
        "image"]  # fmt: skip

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(KINDS), st.text(max_size=5)
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    ),
    max_leaves=25,
)
docs = st.fixed_dictionaries(
    {"apiVersion": st.sampled_from(["v1", "image.openshift.io/v1", "build.openshift.io/v1"]),
     "kind": st.sampled_from(KINDS)},
    optional={"metadata": values, "spec": values, "status": values, "tag": values,
              "items": values, "lookupPolicy": values},
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(docs, values))
def test_convert_never_raises_anything_else(doc: Any) -> None:
    try:
        for item, where in flatten([doc]):
            converted = convert(item, where)
            if converted.obj.get("kind") == "ImageStreamTag":
                tag_request(converted.obj, "ns", where)
    except ManifestError:
        pass
