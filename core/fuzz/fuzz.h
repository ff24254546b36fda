/* fuzz.h: every fuzz target defines LLVMFuzzerTestOneInput; libFuzzer
 * drives it under `make fuzz`, replay.c under ctest (corpora and every
 * crash input ever found, as regression tests). */
#ifndef PGOFETCH_FUZZ_H
#define PGOFETCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Bounds kept small so a fuzzed input cannot ask for gigabytes. */
#define FUZZ_MAX_OUT ((size_t)16 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
