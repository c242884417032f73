"""Ship the top-level ``s2i_templates/`` inside the package as ``builder/s2i_templates``.

The project layout keeps templates at the top level where people look for
them; installed copies (the build-pod image) need them next to the code.
pyproject.toml cannot map a directory outside the package on its own.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["builder", "builder.*"]), "builder.s2i_templates"],
    package_dir={"builder.s2i_templates": "s2i_templates"},
    package_data={"builder": ["py.typed"], "builder.s2i_templates": ["*.j2"]},
)
