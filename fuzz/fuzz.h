/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point of a fuzz target. replay.c calls it on every file of a corpus so
 * that the corpus runs in `meson test` without libFuzzer. Returns 0; a failed check aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
