"""The review app (``hotpixel review``): a person accepts or rejects each detection.

:mod:`.session` holds the review state and saves labels (no Qt), :mod:`.images` makes the
pictures (numpy), :mod:`.qt` is the one place that imports Qt (PySide6, else PySide2),
:mod:`.lock` says who else reviews the folder, and :mod:`.main_window` is the window.
"""
