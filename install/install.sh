#!/bin/sh
# Install the hotpixel engine and Nuke plugin for this user; see install.py --help.
exec "${PYTHON:-python3}" "$(dirname "$0")/install.py" "$@"
