// The declaration in include/fuzz_driver.h is the whole of this target: libFuzzer defines the function when
// `allowance-fuzz` is linked with -sanitize=fuzzer. SwiftPM needs one C file to build a C target.
#include "fuzz_driver.h"
