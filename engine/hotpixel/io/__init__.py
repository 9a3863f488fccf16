"""Reading and writing files: sequences, frames, EXR outputs, atomic writes, JSON documents.

The only package that imports OpenImageIO.
"""
