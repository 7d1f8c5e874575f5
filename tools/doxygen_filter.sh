#!/bin/sh
# Doxygen's INPUT_FILTER (docs/Doxyfile): reads the headers' plain // comments as documentation.
# A file's first comment block describes the file; a // line above a declaration documents it; a
# trailing // comment documents the member on its left. The headers themselves stay plain C++.
exec sed -e '1s|^// |/// \\file\n/// |' \
         -e 's|^\( *\)// |\1/// |' -e 's|^\( *\)//$|\1///|' \
         -e 's|\([;,{]\) *// |\1 ///< |' "$1"
