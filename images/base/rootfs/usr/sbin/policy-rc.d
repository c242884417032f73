#!/bin/sh
# Package maintainer scripts must not start daemons while an image is being
# built: there is no init system, and the build would hang or fail.
exit 101
