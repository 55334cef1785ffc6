#!/usr/bin/env bash
# Formats every C++ source in place with the committed .clang-format.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
find engine ui app tests bench \( -name '*.cpp' -o -name '*.h' \) -not -path '*/corpus/*' -print0 \
    | xargs -0 -r clang-format -i
