#!/bin/sh
# Emits a C file defining `const char NAME[]` with FILE's bytes (NUL-terminated).
set -eu
name=$1 file=$2
echo "/* generated from $file; do not edit */"
echo "#include <stddef.h>"
echo "const char ${name}[] = {"
od -An -v -tx1 "$file" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "0x00 };"
echo "const size_t ${name}_len = sizeof(${name}) - 1;"
