"""The engine's versioned JSON documents (report, labels, sensor results): reading them back.

Each document carries ``schema`` and ``schema_version``; a file that is missing, unreadable, of
another schema or of another version is an :class:`InputError` that names the file and says
what to do (``fix``).
"""

from __future__ import annotations

import json
from typing import Any

from hotpixel.errors import InputError


def read_document(path: str, schema: str, version: int, fix: str) -> dict[str, Any]:
    """The JSON object at ``path``, checked to be ``schema`` at ``version``."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path!r} ({exc}); {fix}") from exc
    if not isinstance(data, dict) or data.get("schema") != schema:
        raise InputError(f"{path!r} is not a {schema} file; {fix}")
    if data.get("schema_version") != version:
        raise InputError(
            f"{path!r} has {schema} version {data.get('schema_version')!r}, this engine reads "
            f"version {version}; {fix}"
        )
    return data
