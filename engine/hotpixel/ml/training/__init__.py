"""PyTorch training and ONNX export of the temporal detector (needs the ``train`` extra).

Nothing outside this package imports torch: detection runs the exported ONNX model.
"""
