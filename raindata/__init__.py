"""raindata: rain synthesis, public dataset layouts, manifests and loaders.

Importing this package is cheap: no torch, no OpenCV, no file-system scans.
Submodules are imported where they are used.
"""

__version__ = "0.1.0"
