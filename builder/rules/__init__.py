"""builder.rules: what OpenShift's API server does for builds, kept in one layer.

On OpenShift part of the build logic lives in the API server: the
``buildconfigs/instantiate`` subresource (a BuildConfig becomes Build
``<bc>-<n>``, ``status.lastVersion`` is its number), the names and labels
every Build and build pod gets, and the retry on conflicts that every
read-modify-write needs.  A plain cluster has no such server code, so
kbuild keeps it here, and both the controller and the CLI import it: a
``kbuild start-build`` and an ImageChange trigger number, name and label
their Builds by the same code.

- ``retry``: ``update_with_retry``, the one read-mutate-write loop under
  optimistic concurrency (bounded attempts; a Conflict re-reads and
  re-applies the mutation);
- ``names``: Build names, numbers, labels and the build pod's name;
- ``instantiate``: the next Build of a BuildConfig (``lastVersion``).

The layer sits between ``builder.controller`` and ``builder.kube`` (see the
import-linter contract in pyproject.toml): it talks to the API server only
through ``builder.kube``.  Nothing is imported here, so ``import
builder.rules.names`` stays as cheap as the CLI's start-up needs.
"""
