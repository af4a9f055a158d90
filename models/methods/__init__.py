"""One module per registered method: its card, its released weights, its few own lines.

Everything that is the same for all methods (device, precision, tiling, batching, reading
weights, quantization, file loops) lives once in :mod:`models.inference`; a method file
holds what differs - the card the engine reads and, where the official test script has
them, the few lines of pre/post-processing (as a wrapper module) or of weight-name
mapping (:meth:`~models.inference.method.NetworkMethod.convert_state`). Network
definitions live in :mod:`models.archs`. Each method is one line of
:data:`models.registry.BUILTIN_METHODS`.
"""
