// libFuzzer's entry point for programs that keep their own main (LLVM 11 and later). Only `allowance-fuzz` built
// with `-sanitize=fuzzer -DFUZZING` calls it; scripts/fuzz.sh does that build.
#ifndef ALLOWANCE_FUZZ_DRIVER_H
#define ALLOWANCE_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
