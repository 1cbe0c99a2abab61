#!/usr/bin/env python3
"""Embed the OpenAPI document as a C string: embed.py INPUT OUTPUT."""
import json
import sys

text = open(sys.argv[1], encoding="utf-8").read()
json.loads(text)  # a broken document fails the build
out = ['/* Generated from openapi.json by embed.py: do not edit. */',
       '#include <stddef.h>', '', 'const char api_openapi_json[] =']
for line in text.splitlines(keepends=True):
    out.append('        "' + line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"')
out[-1] += ';'
out.append(f'const size_t api_openapi_json_len = sizeof api_openapi_json - 1;')
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
